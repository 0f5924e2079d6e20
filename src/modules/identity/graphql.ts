/**
 * The identity mutations: thin adapters that hand their raw input and the caller to the one
 * AuthService (the same methods the REST routes call). Errors it throws carry their codes.
 */
import { context, get, lambda, sideEffect, type Step } from "postgraphile/grafast";
import { extendSchema, gql } from "postgraphile/utils";
import type { AuthService } from "./service.ts";

declare global {
  namespace Grafast {
    interface Context {
      auth: AuthService;
    }
  }
}

type WithInput =
  | "register"
  | "confirmRegistration"
  | "login"
  | "verifyTwoFactor"
  | "refreshSession"
  | "changePassword"
  | "forgotPassword"
  | "resetPassword"
  | "confirmTwoFactor"
  | "disableTwoFactor";
type WithoutInput = "logout" | "enableTwoFactor";

function withInput(method: WithInput) {
  return (_$root: unknown, fieldArgs: { getRaw(path: string): unknown }) =>
    sideEffect(
      [fieldArgs.getRaw("input") as never, context()],
      ([input, ctx]): Promise<unknown> => ctx.auth[method](input, ctx.caller),
    );
}

function withoutInput(method: WithoutInput) {
  return () => sideEffect([context()], ([ctx]): Promise<unknown> => ctx.auth[method](ctx.caller));
}

/** The global id PostGraphile gives a row of app_public.users (base64 of `["User", rowId]`). */
export function userNodeId(rowId: string): string {
  return Buffer.from(JSON.stringify(["User", rowId])).toString("base64");
}

export const IdentityPlugin = extendSchema(() => ({
  typeDefs: gql`
    input RegisterInput {
      "Slug of the tenant to join."
      tenant: String!
      email: String!
      username: String!
      fullName: String
      password: String!
      "Required when the server has CAPTCHA_API_URL configured."
      captchaToken: String
    }
    type RegisterPayload {
      "Pass it to confirmRegistration with the code from the e-mail."
      registrationToken: String!
      expiresAt: Datetime!
    }
    input ConfirmRegistrationInput {
      registrationToken: String!
      "The 6-digit code from the e-mail."
      code: String!
    }
    input LoginInput {
      tenant: String!
      "E-mail address or username."
      login: String!
      password: String!
    }
    input VerifyTwoFactorInput {
      twoFactorToken: String!
      "A TOTP code or a recovery code."
      code: String!
    }
    input RefreshSessionInput {
      refreshToken: String!
    }
    input ChangePasswordInput {
      currentPassword: String!
      newPassword: String!
    }
    input ForgotPasswordInput {
      tenant: String!
      email: String!
    }
    input ResetPasswordInput {
      "The token from the reset e-mail."
      token: String!
      newPassword: String!
    }
    input TwoFactorCodeInput {
      code: String!
    }
    "The signed-in user, as returned with a new session."
    type AuthUser {
      "Global id (for node(id:))."
      id: ID!
      "Primary key."
      rowId: UUID!
      email: String!
      username: String!
      fullName: String
    }
    """
    A new session (access and refresh token), or — when the account has two-factor
    authentication — twoFactorRequired with the token for verifyTwoFactor.
    """
    type SessionPayload {
      accessToken: String
      refreshToken: String
      accessTokenExpiresAt: Datetime
      user: AuthUser
      twoFactorRequired: Boolean!
      twoFactorToken: String
    }
    type SuccessPayload {
      success: Boolean!
    }
    type EnableTwoFactorPayload {
      "Base32 secret for the authenticator app."
      secret: String!
      otpauthUri: String!
    }
    type ConfirmTwoFactorPayload {
      "Ten single-use recovery codes. Shown once."
      recoveryCodes: [String!]!
    }

    # Registration and sessions
    extend type Mutation {
      "Starts a registration: e-mails a 6-digit code. Same answer whether or not the e-mail is registered."
      register(input: RegisterInput!): RegisterPayload
      "Creates the account from the e-mailed code and signs in."
      confirmRegistration(input: ConfirmRegistrationInput!): SessionPayload
      login(input: LoginInput!): SessionPayload
      "Completes a two-step login."
      verifyTwoFactor(input: VerifyTwoFactorInput!): SessionPayload
    }
    extend type Mutation {
      "Rotates the refresh token. Presenting an already-used one revokes the session (TOKEN_REUSED)."
      refreshSession(input: RefreshSessionInput!): SessionPayload
      "Revokes the current session."
      logout: SuccessPayload
    }

    # Passwords
    extend type Mutation {
      "Sets a new password and revokes every other session."
      changePassword(input: ChangePasswordInput!): SuccessPayload
      "E-mails a reset token when the account exists. Always answers success."
      forgotPassword(input: ForgotPasswordInput!): SuccessPayload
      "Sets a new password with the e-mailed token and revokes every session."
      resetPassword(input: ResetPasswordInput!): SuccessPayload
    }

    # Two-factor authentication
    extend type Mutation {
      "Starts two-factor enrolment."
      enableTwoFactor: EnableTwoFactorPayload
      "Turns two-factor authentication on with a first code."
      confirmTwoFactor(input: TwoFactorCodeInput!): ConfirmTwoFactorPayload
      "Turns two-factor authentication off; needs a valid code."
      disableTwoFactor(input: TwoFactorCodeInput!): SuccessPayload
    }
  `,
  objects: {
    AuthUser: {
      plans: {
        rowId: ($user: Step<{ id: string }>) => get($user, "id"),
        id: ($user: Step<{ id: string }>) => lambda(get($user, "id"), userNodeId),
      },
    },
    Mutation: {
      plans: {
        register: withInput("register"),
        confirmRegistration: withInput("confirmRegistration"),
        login: withInput("login"),
        verifyTwoFactor: withInput("verifyTwoFactor"),
        refreshSession: withInput("refreshSession"),
        logout: withoutInput("logout"),
        changePassword: withInput("changePassword"),
        forgotPassword: withInput("forgotPassword"),
        resetPassword: withInput("resetPassword"),
        enableTwoFactor: withoutInput("enableTwoFactor"),
        confirmTwoFactor: withInput("confirmTwoFactor"),
        disableTwoFactor: withInput("disableTwoFactor"),
      },
    },
  },
}));

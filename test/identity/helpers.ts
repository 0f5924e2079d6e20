/** Shared pieces of the identity tests: TOTP codes for a given time step, GraphQL documents. */
import { generate } from "otplib";

/** The TOTP code of the time step `offset` steps from now (±1 is within the accepted skew). */
export function totpCode(secret: string, offset = 0): Promise<string> {
  return generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset * 30 });
}

export const SESSION_FIELDS =
  "accessToken refreshToken accessTokenExpiresAt twoFactorRequired twoFactorToken user { id rowId email " +
  "username fullName }";

export const DOCS = {
  register: `mutation ($input: RegisterInput!) { register(input: $input) { registrationToken expiresAt } }`,
  confirmRegistration:
    `mutation ($input: ConfirmRegistrationInput!) { ` + `confirmRegistration(input: $input) { ${SESSION_FIELDS} } }`,
  login: `mutation ($input: LoginInput!) { login(input: $input) { ${SESSION_FIELDS} } }`,
  verifyTwoFactor: `mutation ($input: VerifyTwoFactorInput!) { verifyTwoFactor(input: $input) { ${SESSION_FIELDS} } }`,
  refreshSession: `mutation ($input: RefreshSessionInput!) { refreshSession(input: $input) { ${SESSION_FIELDS} } }`,
  logout: `mutation { logout { success } }`,
  changePassword: `mutation ($input: ChangePasswordInput!) { changePassword(input: $input) { success } }`,
  forgotPassword: `mutation ($input: ForgotPasswordInput!) { forgotPassword(input: $input) { success } }`,
  resetPassword: `mutation ($input: ResetPasswordInput!) { resetPassword(input: $input) { success } }`,
  enableTwoFactor: `mutation { enableTwoFactor { secret otpauthUri } }`,
  confirmTwoFactor: `mutation ($input: TwoFactorCodeInput!) { confirmTwoFactor(input: $input) { recoveryCodes } }`,
  disableTwoFactor: `mutation ($input: TwoFactorCodeInput!) { disableTwoFactor(input: $input) { success } }`,
  currentUser: `{ currentUser { rowId email username } }`,
  mySessions: `{ mySessions { nodes { rowId isCurrent revokedAt } } }`,
};

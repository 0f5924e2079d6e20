/** The payment provider the configuration names. */
import type { PaymentsConfig } from "../config.ts";
import { MockProvider } from "./mock.ts";
import { PlatformProvider } from "./platform.ts";
import type { PaymentProvider } from "./provider.ts";

export { MockProvider } from "./mock.ts";
export { PlatformProvider } from "./platform.ts";
export {
  type Invoice,
  type InvoiceRequest,
  type InvoiceState,
  type PaymentProvider,
  ProviderError,
} from "./provider.ts";

export function makePaymentProvider(config: PaymentsConfig): PaymentProvider {
  if (config.provider === "platform") {
    if (!config.platform)
      throw new Error(
        "PAYMENT_PROVIDER=platform needs PLATFORM_PAYMENT_SYSTEM_BASE_URL, _LOGIN, _PASSWORD and _2FA_KEY",
      );
    return new PlatformProvider(config.platform);
  }
  if (!config.mockUrl)
    throw new Error(
      "PAYMENT_PROVIDER=mock needs MOCK_PAYMENTS_PROVIDER_URL (`npm start` starts a mock and sets it; " +
        "otherwise run `npm run mock:payments`)",
    );
  return new MockProvider(config.mockUrl);
}

/**
 * The providers by name, each made once (so the platform's session is kept): a payment is polled at
 * the provider it started with, whichever PAYMENT_PROVIDER says now. A provider that is not
 * configured throws makePaymentProvider's error.
 */
export function providerRegistry(config: PaymentsConfig): (name: PaymentsConfig["provider"]) => PaymentProvider {
  const made = new Map<string, PaymentProvider>();
  return (name) => {
    let provider = made.get(name);
    if (!provider) {
      provider = makePaymentProvider({ ...config, provider: name });
      made.set(name, provider);
    }
    return provider;
  };
}

import type { ProxyConfig } from '../config/schema.js';
import { createResendVendor } from './resend/index.js';
import { createStripeVendor } from './stripe/index.js';
import { createTwilioVendor } from './twilio/index.js';
import type { Vendor, VendorSecrets } from './types.js';

export interface ConfiguredVendor {
  readonly vendor: Vendor;
  readonly baseUrl: string;
  /** `null` when the real credentials are not configured: calls get `vendor_not_configured`. */
  readonly secrets: VendorSecrets | null;
}

/** The vendors the proxy knows, with their upstreams and secrets from configuration. */
export function buildVendors(config: ProxyConfig): Map<string, ConfiguredVendor> {
  const entries: ConfiguredVendor[] = [
    {
      vendor: createStripeVendor(),
      baseUrl: config.SPENDGATE_STRIPE_BASE_URL,
      secrets: complete({ secretKey: config.STRIPE_SECRET_KEY }),
    },
    {
      vendor: createTwilioVendor({
        smsPerSegmentByPrefix: config.SPENDGATE_TWILIO_SMS_PRICES,
        defaultSmsPerSegment: config.SPENDGATE_TWILIO_SMS_USD ?? null,
        mmsPerMessageByPrefix: config.SPENDGATE_TWILIO_MMS_PRICES,
        defaultMmsPerMessage: config.SPENDGATE_TWILIO_MMS_USD ?? null,
      }),
      baseUrl: config.SPENDGATE_TWILIO_BASE_URL,
      secrets: complete({ accountSid: config.TWILIO_ACCOUNT_SID, authToken: config.TWILIO_AUTH_TOKEN }),
    },
    {
      vendor: createResendVendor(
        config.SPENDGATE_RESEND_EMAIL_USD === undefined
          ? {}
          : { pricePerEmail: config.SPENDGATE_RESEND_EMAIL_USD },
      ),
      baseUrl: config.SPENDGATE_RESEND_BASE_URL,
      secrets: complete({ apiKey: config.RESEND_API_KEY }),
    },
  ];
  return new Map(entries.map((entry) => [entry.vendor.name, entry]));
}

function complete(secrets: Record<string, string | undefined>): VendorSecrets | null {
  const values = Object.entries(secrets);
  if (values.some(([, v]) => v === undefined || v === '')) return null;
  return Object.fromEntries(values) as VendorSecrets;
}

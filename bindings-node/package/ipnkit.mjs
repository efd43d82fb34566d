// The ipnkit npm package, ES module entry: the same objects as the CommonJS entry.
import { createRequire } from 'node:module';

const api = createRequire(import.meta.url)('./ipnkit.cjs');

export const {
  IpnError, BodyError, LimitError, FormatError, CharsetError, DuplicateKeyError, ValueFormatError,
  ConfigurationError, ArgumentError, Money, PayPalDate, Message, Config, Expected, Verdict,
  parse, postback, verificationRequest, verdict, decide, classify, EVENTS, MODELLED_VARIABLES,
  ERROR_CODES, schema,
} = api;
export default api;

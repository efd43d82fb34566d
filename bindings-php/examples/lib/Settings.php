<?php
// The examples' settings, from the environment (php -S passes its own to scripts; under FPM,
// `env[IPNKIT_DB] = …` in the pool, or SetEnv in Apache):
//
//   IPNKIT_DB               the SQLite file of the inbox (required)
//   IPNKIT_ENV              live or sandbox (required: which PayPal verifies, which messages pass)
//   IPNKIT_RECEIVER_EMAILS  this shop's PayPal e-mail addresses, comma-separated
//   IPNKIT_RECEIVER_IDS     this shop's PayPal account ids, comma-separated
//   IPNKIT_VERIFY_URL       post back to this base URL instead of PayPal (tests with
//                           `ipnkit sandbox` only)
//   IPNKIT_POSTBACK_TIMEOUT seconds a postback may take (default 30)
declare(strict_types=1);

namespace IpnkitExample;

use Ipnkit\Config;

final class Settings
{
    private function __construct(
        public readonly string $db,
        public readonly Config $config,
        public readonly float $postbackTimeout,
    ) {
    }

    /** Reads the settings; a missing or malformed one is a RuntimeException naming it. */
    public static function fromEnvironment(): self
    {
        $db = self::get('IPNKIT_DB') ?? throw new \RuntimeException('IPNKIT_DB (the SQLite file) is not set');
        $environment = self::get('IPNKIT_ENV') ?? throw new \RuntimeException('IPNKIT_ENV (live or sandbox) is not set');
        $timeout = self::get('IPNKIT_POSTBACK_TIMEOUT') ?? '30';
        if (!is_numeric($timeout) || (float) $timeout <= 0) {
            throw new \RuntimeException('IPNKIT_POSTBACK_TIMEOUT is not a number of seconds');
        }
        $config = ['environment' => $environment, 'receiver_emails' => self::list('IPNKIT_RECEIVER_EMAILS'), 'receiver_ids' => self::list('IPNKIT_RECEIVER_IDS')];
        $verifyUrl = self::get('IPNKIT_VERIFY_URL');
        if ($verifyUrl !== null) {
            $config['verify_url_for_testing'] = $verifyUrl;
        }
        // ipnkit checks the configuration: an unknown environment is a ConfigurationException.
        return new self($db, new Config($config), (float) $timeout);
    }

    public static function get(string $name): ?string
    {
        $value = getenv($name);
        return $value === false || $value === '' ? null : $value;
    }

    /** @return list<string> */
    private static function list(string $name): array
    {
        return array_values(array_filter(array_map('trim', explode(',', self::get($name) ?? '')), fn (string $s): bool => $s !== ''));
    }
}

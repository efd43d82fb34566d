<?php
// The suite tests the extension as built: it must be loaded (php -d extension=PATH), and the
// shared corpus must be there (IPNKIT_CORPUS, or ../shared/corpus beside the repository).
declare(strict_types=1);

if (!extension_loaded('ipnkit')) {
    fwrite(STDERR, "bindings-php tests: the ipnkit extension is not loaded: run php -d extension=\$(scripts/build php | tail -n 1) /usr/bin/phpunit -c bindings-php/phpunit.xml\n");
    exit(1);
}

const ROOT = __DIR__ . '/../..';
const VECTORS = ROOT . '/tests/vectors';
define('CORPUS', getenv('IPNKIT_CORPUS') ?: ROOT . '/../shared/corpus');
if (!is_file(CORPUS . '/SOURCES.md')) {
    fwrite(STDERR, 'bindings-php tests: the IPN corpus is missing at ' . CORPUS . " (set IPNKIT_CORPUS)\n");
    exit(1);
}

/** Files matching $pattern; an empty match is a failure, never a silently empty loop. */
function files(string $pattern): array
{
    $found = glob($pattern);
    if (!$found) {
        throw new RuntimeException("no file matches $pattern");
    }
    return $found;
}

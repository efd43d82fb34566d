<?php
// Ipnkit\Ipn::parse against PHP's parse_str on the same bodies (the shared corpus and the
// project's vectors), one run, side by side: the best of ROUNDS interleaved rounds of PASSES
// passes each (this machine is shared and noisy; the best round is the least disturbed).
//
//   php -d extension=$(scripts/build php | tail -n 1) bindings-php/bench.php
declare(strict_types=1);

use Ipnkit\Ipn;

if (!extension_loaded('ipnkit')) {
    fwrite(STDERR, "bench: the ipnkit extension is not loaded: php -d extension=PATH " . __FILE__ . "\n");
    exit(2);
}
$root = dirname(__DIR__);
$corpus = getenv('IPNKIT_CORPUS') ?: "$root/../shared/corpus";
$bodies = array_map('file_get_contents', array_merge(glob("$corpus/*.body"), glob("$root/tests/vectors/*.body")));
if (count($bodies) < 10) {
    fwrite(STDERR, "bench: too few bodies (is the corpus at $corpus?)\n");
    exit(2);
}
$rounds = (int) (getenv('ROUNDS') ?: 30);
$passes = (int) (getenv('PASSES') ?: 50);

$tasks = [
    'parse_str (the baseline)' => function (array $bodies): void {
        foreach ($bodies as $body) {
            parse_str($body, $vars);
        }
    },
    'Ipn::parse' => function (array $bodies): void {
        foreach ($bodies as $body) {
            Ipn::parse($body);
        }
    },
    'Ipn::parse + 3 typed reads' => function (array $bodies): void {
        foreach ($bodies as $body) {
            $m = Ipn::parse($body);
            $m->txn_type;
            $m->mc_gross;
            $m->payment_status;
        }
    },
    'Ipn::parse + toArray()' => function (array $bodies): void {
        foreach ($bodies as $body) {
            Ipn::parse($body)->toArray();
        }
    },
];
$best = array_fill_keys(array_keys($tasks), INF);
for ($round = 0; $round < $rounds; $round++) {
    foreach ($tasks as $name => $task) {
        $start = hrtime(true);
        for ($pass = 0; $pass < $passes; $pass++) {
            $task($bodies);
        }
        $best[$name] = min($best[$name], (hrtime(true) - $start) / $passes / count($bodies) / 1000);
    }
}
$baseline = $best['parse_str (the baseline)'];
printf("%d messages, microseconds per message (best of %d rounds of %d passes, PHP %s)\n", count($bodies), $rounds, $passes, PHP_VERSION);
foreach ($best as $name => $us) {
    $ratio = $us / $baseline;
    printf("  %-28s: %7.2f   (%s)\n", $name, $us, $name === 'parse_str (the baseline)' ? 'the baseline'
        : ($ratio <= 1 ? sprintf('%.2fx faster than parse_str', 1 / $ratio) : sprintf('%.2fx slower than parse_str', $ratio)));
}

<?php
// The shop's settle job (see ../listener/settle.php for how to run it): each notification is
// posted back, checked against the order it pays, and acted on once — a capture confirms the
// order whose authorization id it carries, whether or not DoCapture's answer ever arrived.
declare(strict_types=1);

require __DIR__ . '/../lib/Inbox.php';
require __DIR__ . '/../lib/Settings.php';
require __DIR__ . '/../lib/Settler.php';
require __DIR__ . '/Shop.php';

use Ipnkit\{Decision, Expected, Message};
use IpnkitExample\{Inbox, Settings, Settler, Shop};

$settings = Settings::fromEnvironment();
$inbox = Inbox::open($settings->db);
$shop = Shop::fromEnvironment($inbox->db, $settings->config->environment());

$settler = new Settler(
    $inbox,
    $settings->config,
    expected: fn (Message $m, PDO $db): ?Expected => $shop->expected($m),
    act: fn (Message $m, Decision $d, PDO $db) => $shop->act($m, $d),
    timeout: $settings->postbackTimeout,
);
exit($settler->runAsJob($argv, $settings->db . '.settle-lock'));

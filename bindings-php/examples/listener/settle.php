<?php
// The listener's settle job: `php settle.php` from cron (works through what is due, then exits;
// a run already going makes it exit at once), or `php settle.php --watch` as a service until
// SIGTERM. The same settings as index.php.
//
// What it does with an accepted notification is in `act` below: this example records the event
// in listener_event, in the transaction that marks the delivery acted on; a shop updates its
// orders there instead (see ../shop/).
declare(strict_types=1);

require __DIR__ . '/../lib/Inbox.php';
require __DIR__ . '/../lib/Settings.php';
require __DIR__ . '/../lib/Settler.php';

use Ipnkit\{Decision, Expected, Message};
use IpnkitExample\{Inbox, Settings, Settler};

$settings = Settings::fromEnvironment();
$inbox = Inbox::open($settings->db);
$inbox->db->exec('CREATE TABLE IF NOT EXISTS listener_event (
    delivery_key TEXT PRIMARY KEY, event TEXT NOT NULL, txn_id TEXT, acted_at REAL NOT NULL)');

$settler = new Settler(
    $inbox,
    $settings->config,
    // No orders here: nothing to compare amounts with. A shop looks the order up instead.
    expected: fn (Message $m, PDO $db): Expected => Expected::anyAmount(),
    act: function (Message $m, Decision $d, PDO $db): void {
        $db->prepare('INSERT INTO listener_event (delivery_key, event, txn_id, acted_at) VALUES (?, ?, ?, ?)')
            ->execute([$d->deliveryKey(), $d->event(), $m->txn_id, microtime(true)]);
    },
    timeout: $settings->postbackTimeout,
);
exit($settler->runAsJob($argv, $settings->db . '.settle-lock'));

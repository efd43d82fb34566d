<?php
// A plain-PHP IPN listener: the URL PayPal notifies. It stores the raw body in SQLite and answers
// 200; the settle job (settle.php) posts back, checks and acts. Serve it with PHP-FPM or Apache
// (map the IPN URL to this file), or for a try:
//
//   IPNKIT_DB=ipn.sqlite IPNKIT_ENV=sandbox IPNKIT_RECEIVER_EMAILS=shop@example.net \
//     php -d extension=ipnkit -d enable_post_data_reading=0 -S 127.0.0.1:8080 index.php
//
// enable_post_data_reading=0 keeps PHP from parsing the body into $_POST (a listener never
// needs it, and a 500-item cart would hit max_input_vars); php://input is the body either way.
declare(strict_types=1);

require __DIR__ . '/../lib/Inbox.php';
require __DIR__ . '/../lib/Settings.php';
require __DIR__ . '/../lib/receive.php';

use IpnkitExample\{Inbox, Settings};

if (PHP_SAPI === 'cli-server' && parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH) !== '/ipn') {
    http_response_code(404);
    exit;
}
try {
    $settings = Settings::fromEnvironment();
    $inbox = Inbox::open($settings->db);
} catch (\Throwable $e) {
    // A broken deployment: say so in the log, and let PayPal deliver again once it is fixed.
    error_log(json_encode(['problem' => 'listener_not_ready', 'error' => $e->getMessage()]));
    http_response_code(500);
    exit;
}
IpnkitExample\receive($inbox, $settings->config->limits()['max_body_bytes']);

<?php
// The shop's front controller. Routes:
//   POST /checkout  product=…      the order, then 303 to PayPal's checkout page
//   GET  /return?token=…&PayerID=… back from PayPal: authorize, store the authorization id, capture
//   GET  /cancel                   the buyer gave up
//   GET  /orders/ID                the order, as JSON (what an order page would show)
//   POST /ipn                      PayPal's notifications, stored for the settle job
//
//   IPNKIT_DB=shop.sqlite IPNKIT_ENV=sandbox IPNKIT_RECEIVER_EMAILS=shop@example.net \
//   SHOP_URL=https://shop.example PAYPAL_API_USER=… PAYPAL_API_PASSWORD=… PAYPAL_API_SIGNATURE=… \
//     php -d extension=ipnkit -d enable_post_data_reading=0 -S 127.0.0.1:8080 index.php
declare(strict_types=1);

require __DIR__ . '/../lib/Inbox.php';
require __DIR__ . '/../lib/Settings.php';
require __DIR__ . '/../lib/receive.php';
require __DIR__ . '/Shop.php';

use IpnkitExample\{Inbox, Settings, Shop};

function page(int $status, string $text): void
{
    http_response_code($status);
    header('Content-Type: text/plain; charset=utf-8');
    echo $text, "\n";
}

try {
    $settings = Settings::fromEnvironment();
    $inbox = Inbox::open($settings->db);
    $shop = Shop::fromEnvironment($inbox->db, $settings->config->environment());
} catch (\Throwable $e) {
    error_log(json_encode(['problem' => 'shop_not_ready', 'error' => $e->getMessage()]));
    page(500, 'The shop is not available; please try again later.');
    exit;
}

$path = (string) parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH);
$method = $_SERVER['REQUEST_METHOD'] ?? 'GET';
try {
    if ($path === '/ipn') {
        IpnkitExample\receive($inbox, $settings->config->limits()['max_body_bytes']);
    } elseif ($path === '/checkout' && $method === 'POST') {
        // enable_post_data_reading=0 (for /ipn) leaves $_POST empty: read this small form here.
        parse_str((string) file_get_contents('php://input', false, null, 0, 4096), $form);
        $product = is_string($form['product'] ?? null) ? $form['product'] : '';
        if (!isset(Shop::CATALOGUE[$product])) {
            page(400, 'No such product.');
        } else {
            header('Location: ' . $shop->checkout($product), true, 303);
        }
    } elseif ($path === '/return' && $method === 'GET') {
        $token = is_string($_GET['token'] ?? null) ? $_GET['token'] : '';
        $payer = is_string($_GET['PayerID'] ?? null) ? $_GET['PayerID'] : '';
        if ($token === '' || $payer === '' || $shop->order('token', $token) === null) {
            page(404, 'No such checkout.');
        } else {
            match ($shop->complete($token, $payer)) {
                'paid' => page(200, 'Paid, thank you. Your order is on its way.'),
                'failed' => page(502, 'PayPal did not take the payment; nothing was charged.'),
                // DoCapture (or the authorization) got no answer: PayPal's notification says.
                default => page(202, "We are confirming your payment with PayPal; you will get an e-mail when it is done."),
            };
        }
    } elseif ($path === '/cancel') {
        page(200, 'Checkout cancelled; nothing was charged.');
    } elseif ($method === 'GET' && preg_match('#^/orders/(\d{1,18})$#', $path, $m)) {
        $order = $shop->order('id', (int) $m[1]);
        if ($order === null) {
            page(404, 'No such order.');
        } else {
            header('Content-Type: application/json');
            echo json_encode($order, JSON_THROW_ON_ERROR);
        }
    } else {
        page(404, 'Not found.');
    }
} catch (\Throwable $e) {
    error_log(json_encode(['problem' => 'request_failed', 'path' => $path, 'error' => get_class($e) . ': ' . $e->getMessage()]));
    page(500, 'Something went wrong; nothing was charged twice. Please try again.');
}

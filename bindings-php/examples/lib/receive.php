<?php
// Receiving a notification: the raw body exactly as PayPal sent it (php://input, never $_POST),
// within the size limit and whole, committed to the inbox before the 200. Anything else gets an
// error status, and PayPal delivers again later.
declare(strict_types=1);

namespace IpnkitExample;

/** Handles one request to the IPN URL; sends the status and returns it. */
function receive(Inbox $inbox, int $maxBodyBytes): int
{
    $answer = function (int $status, string $text = '', array $headers = []): int {
        http_response_code($status);
        header('Content-Type: text/plain');
        foreach ($headers as $header) {
            header($header);
        }
        echo $text;
        return $status;
    };
    if (($_SERVER['REQUEST_METHOD'] ?? '') !== 'POST') {
        return $answer(405, "POST only\n", ['Allow: POST']);
    }
    $declared = $_SERVER['CONTENT_LENGTH'] ?? '';
    if ($declared !== '' && (!ctype_digit($declared) || strlen($declared) > 12 || (int) $declared > $maxBodyBytes)) {
        return $answer(413, "too large\n", ['Connection: close']); // refused before reading a byte
    }
    // At most one byte past the limit is read: enough to tell the body is too large.
    $raw = file_get_contents('php://input', false, null, 0, $maxBodyBytes + 1);
    if ($raw === false || $raw === '') {
        // Also what PHP gives when post_max_size is exceeded, or when it parsed the body into
        // $_POST and discarded it: run the listener with enable_post_data_reading=0.
        return $answer(400, "expected a form body\n");
    }
    if (strlen($raw) > $maxBodyBytes) {
        return $answer(413, "too large\n", ['Connection: close']);
    }
    if ($declared !== '' && strlen($raw) !== (int) $declared) {
        return $answer(400, "body shorter than its Content-Length\n"); // never store half a message
    }
    try {
        $inbox->receive($raw);
    } catch (\PDOException $e) {
        error_log(json_encode(['problem' => 'store_failed', 'sqlstate' => $e->getCode()]));
        return $answer(500, "try again\n"); // PayPal delivers again later
    }
    return $answer(200);
}

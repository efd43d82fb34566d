<?php
// Processes for the examples' end-to-end tests: `ipnkit sandbox`, `php -S`, settle jobs.
declare(strict_types=1);

/** A process in its own process group, its output (stdout and stderr) in a file. */
final class Background
{
    /** @param resource $process */
    private function __construct(private $process, public readonly int $pid, public readonly string $log, private readonly string $name)
    {
    }

    /**
     * @param list<string> $command
     * @param array<string, string> $env added to this process's environment
     */
    public static function start(string $name, array $command, array $env, string $log): self
    {
        // setsid: its own group, so that stopping it stops what it forked (php -S workers).
        $process = proc_open(['setsid', ...$command], [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log, 'a'], 2 => ['file', $log, 'a']], $pipes, null, $env + getenv());
        if ($process === false) {
            throw new RuntimeException("cannot start $name: " . implode(' ', $command));
        }
        return new self($process, proc_get_status($process)['pid'], $log, $name);
    }

    public function output(): string
    {
        return (string) @file_get_contents($this->log);
    }

    /** Waits until the output matches $pattern; returns the match. @return list<string> */
    public function waitFor(string $pattern, float $seconds, string $what): array
    {
        $deadline = microtime(true) + $seconds;
        while (!preg_match($pattern, $this->output(), $match)) {
            if (!proc_get_status($this->process)['running']) {
                throw new RuntimeException("{$this->name} ended before $what:\n" . $this->output());
            }
            if (microtime(true) > $deadline) {
                throw new RuntimeException("no $what from {$this->name} within {$seconds} s:\n" . $this->output());
            }
            usleep(50_000);
        }
        return $match;
    }

    public function running(): bool
    {
        return proc_get_status($this->process)['running'];
    }

    /** SIGTERM to its group, then SIGKILL after $grace seconds; returns its exit code (null when killed). */
    public function stop(float $grace = 10.0): ?int
    {
        posix_kill(-$this->pid, SIGTERM);
        $deadline = microtime(true) + $grace;
        while (($status = proc_get_status($this->process))['running'] && microtime(true) < $deadline) {
            usleep(20_000);
        }
        if ($status['running']) {
            posix_kill(-$this->pid, SIGKILL);
        }
        proc_close($this->process);
        posix_kill(-$this->pid, SIGKILL); // anything of its group still there
        return $status['running'] || $status['signaled'] ? null : $status['exitcode'];
    }
}

/** A TCP port free on loopback now. */
function freePort(): int
{
    $server = stream_socket_server('tcp://127.0.0.1:0', $errno, $error);
    if ($server === false) {
        throw new RuntimeException("no free port: $error");
    }
    $name = stream_socket_get_name($server, false);
    fclose($server);
    return (int) substr((string) $name, strrpos((string) $name, ':') + 1);
}

/** Waits until something accepts connections on 127.0.0.1:$port. */
function waitForPort(int $port, float $seconds, Background $owner): void
{
    $deadline = microtime(true) + $seconds;
    while (($socket = @fsockopen('127.0.0.1', $port, $errno, $error, 0.2)) === false) {
        if (!$owner->running() || microtime(true) > $deadline) {
            throw new RuntimeException("nothing listens on port $port:\n" . $owner->output());
        }
        usleep(50_000);
    }
    fclose($socket);
}

/** The ipnkit binary that runs the sandbox (cargo build -p ipnkit-cli, or IPNKIT_BIN). */
function ipnkitBinary(): string
{
    $path = getenv('IPNKIT_BIN') ?: ROOT . '/target/debug/ipnkit';
    if (!is_file($path)) {
        throw new RuntimeException("the ipnkit binary is missing at $path (cargo build -p ipnkit-cli, or set IPNKIT_BIN)");
    }
    return $path;
}

/** The extension file under test, for the processes the tests start. */
function extensionFile(): string
{
    $path = getenv('IPNKIT_PHP_EXTENSION');
    if (!$path || !is_file($path)) {
        throw new RuntimeException('set IPNKIT_PHP_EXTENSION to the extension file (scripts/build php prints it)');
    }
    return $path;
}

/**
 * An HTTP request without following redirects: [status, headers (lower-case names), body].
 *
 * @param array<string, string> $form
 * @return array{int, array<string, string>, string}
 */
function http(string $method, string $url, array $form = []): array
{
    $curl = curl_init($url);
    $headers = [];
    curl_setopt_array($curl, [
        CURLOPT_CUSTOMREQUEST => $method,
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_FOLLOWLOCATION => false,
        CURLOPT_TIMEOUT => 30,
        CURLOPT_HEADERFUNCTION => function ($c, string $line) use (&$headers): int {
            if (str_contains($line, ':')) {
                [$name, $value] = explode(':', $line, 2);
                $headers[strtolower(trim($name))] = trim($value);
            }
            return strlen($line);
        },
    ]);
    if ($method === 'POST') {
        curl_setopt($curl, CURLOPT_POSTFIELDS, http_build_query($form));
    }
    $body = curl_exec($curl);
    if ($body === false) {
        throw new RuntimeException("$method $url: " . curl_error($curl));
    }
    return [curl_getinfo($curl, CURLINFO_RESPONSE_CODE), $headers, (string) $body];
}

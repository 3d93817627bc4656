/**
 * The `h123` command (pinned in DESIGN.md):
 *   h123 serve [--host H] [--port P] [--http-port P|--no-http] [--cert F --key F] [--no-h3] [--no-h2]
 *   h123 get URL [--http1.1|--http2|--http3] [--insecure|--cacert F] [--trace] [-o FILE] [-X METHOD] [-d DATA]
 *   h123 cert
 */
import { readFileSync, createWriteStream } from 'node:fs';
import { parseArgs, portFlag, stringFlag } from './args.js';
import { serve } from '../serve.js';
import { demoHandler } from '../demo/routes.js';
import { loadOrCreateDevCertificate } from '../cert/dev-cert.js';
import { closeConnections, request, type ClientProtocol } from '../client.js';

const USAGE = `h123 — HTTP/1.1, HTTP/2 and HTTP/3 by hand

  h123 serve [--host H] [--port P] [--http-port P|--no-http] [--cert F --key F] [--no-h3] [--no-h2]
  h123 get URL [--http1.1|--http2|--http3] [--insecure|--cacert F] [--trace] [-o FILE] [-X METHOD] [-d DATA] [-H 'name: value']
  h123 cert
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': return serveCommand(rest);
    case 'get': return getCommand(rest);
    case 'cert': return certCommand();
    case undefined: case '-h': case '--help': case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`h123: unknown command ${command}\n${USAGE}`);
      return 1;
  }
}

async function serveCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, new Set(['--host', '--port', '--http-port', '--cert', '--key']));
  const host = stringFlag(args, '--host') ?? 'localhost';
  const port = portFlag(args, '--port', 8443);
  const httpPort = args.flags.has('--no-http') ? false : portFlag(args, '--http-port', 8080);
  const certFile = stringFlag(args, '--cert');
  const keyFile = stringFlag(args, '--key');
  if (Boolean(certFile) !== Boolean(keyFile)) throw new Error('--cert and --key go together');
  let cert: string, key: string, spki: string | null = null;
  if (certFile && keyFile) {
    cert = readFileSync(certFile, 'utf8');
    key = readFileSync(keyFile, 'utf8');
  } else {
    const dev = loadOrCreateDevCertificate();
    cert = dev.certPem + dev.caCertPem;
    key = dev.keyPem;
    spki = dev.spkiSha256Base64;
  }
  const server = await serve(demoHandler, {
    host, port, httpPort, cert, key,
    h2: !args.flags.has('--no-h2'),
    h3: !args.flags.has('--no-h3'),
  });
  const name = host === 'localhost' || host === '::' || host === '0.0.0.0' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  const lines = [
    `h123 serving the demo on ${server.hosts.join(' and ')}`,
    `  https://${name}:${server.port}/   (TLS: ${server.alpn.join(', ')} by ALPN)`,
  ];
  if (server.h3Port !== null) lines.push(`  h3 on UDP port ${server.h3Port} (advertised by Alt-Svc)`);
  if (server.httpPort !== null) lines.push(`  http://${name}:${server.httpPort}/   (cleartext: http/1.1${server.alpn.includes('h2') ? ', h2c' : ''})`);
  if (spki) {
    lines.push(`  development certificate SPKI sha-256: ${spki}`);
    lines.push('  HTTP/3 in Chromium:');
    lines.push(`    chromium --origin-to-force-quic-on=${name}:${server.port} --ignore-certificate-errors-spki-list=${spki} https://${name}:${server.port}/`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.stdout.write('h123: shutting down gracefully…\n');
      void server.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

async function getCommand(argv: string[]): Promise<number> {
  try {
    return await fetchAndPrint(argv);
  } finally {
    // Pooled h2/h3 connections would otherwise keep the process alive until they expire.
    await closeConnections();
  }
}

async function fetchAndPrint(argv: string[]): Promise<number> {
  const args = parseArgs(argv, new Set(['--cacert', '-o', '-X', '-d', '-H']));
  const url = args.positional[0];
  if (!url) throw new Error('h123 get: a URL is needed');
  const protocol: ClientProtocol | undefined = args.flags.has('--http3') ? 'h3' : args.flags.has('--http2') ? 'h2' : args.flags.has('--http1.1') ? 'http/1.1' : undefined;
  const cacert = stringFlag(args, '--cacert');
  const data = stringFlag(args, '-d');
  const headers: [string, string][] = [];
  const h = stringFlag(args, '-H');
  if (h) {
    const i = h.indexOf(':');
    if (i <= 0) throw new Error('-H takes "name: value"');
    headers.push([h.slice(0, i).trim().toLowerCase(), h.slice(i + 1).trim()]);
  }
  const trace = args.flags.has('--trace');
  const start = performance.now();
  const stamp = (): string => `[${(performance.now() - start).toFixed(3).padStart(10)} ms]`;
  const response = await request(url, {
    protocol,
    method: stringFlag(args, '-X') ?? (data !== undefined ? 'POST' : 'GET'),
    headers,
    body: data,
    ca: cacert ? readFileSync(cacert, 'utf8') : undefined,
    insecure: args.flags.has('--insecure'),
    trace: trace ? (line) => process.stderr.write(`${stamp()} ${line}\n`) : undefined,
  });
  if (trace) {
    process.stderr.write(`${stamp()} ${response.protocol} ${response.status}\n`);
    for (const [n, v] of response.headers) process.stderr.write(`${stamp()}   ${n}: ${v}\n`);
  }
  const outFile = stringFlag(args, '-o');
  const out: NodeJS.WritableStream = outFile ? createWriteStream(outFile) : process.stdout;
  // A reader that goes away (`h123 get … | head`) ends the download instead of crashing the
  // process; breaking out of the loop cancels the response body. Exit 23 as curl does.
  let writeError: NodeJS.ErrnoException | null = null;
  const onWriteError = (err: NodeJS.ErrnoException): void => { writeError ??= err; };
  out.on('error', onWriteError);
  for await (const chunk of response.body) {
    if (writeError) break;
    if (!out.write(chunk)) await new Promise((r) => { out.once('drain', r); out.once('error', r); });
    if (writeError) break;
  }
  if (writeError) {
    if ((writeError as NodeJS.ErrnoException).code === 'EPIPE') return 23;
    throw writeError;
  }
  out.off('error', onWriteError);
  if (outFile) await new Promise<void>((r) => (out as ReturnType<typeof createWriteStream>).end(r));
  const trailers = await response.trailers;
  if (trace && trailers) for (const [n, v] of trailers) process.stderr.write(`${stamp()} trailer ${n}: ${v}\n`);
  return response.status >= 400 ? 22 : 0;
}

async function certCommand(): Promise<number> {
  const dev = loadOrCreateDevCertificate();
  process.stdout.write([
    `CA certificate:   ${dev.caPath}`,
    `leaf certificate: ${dev.certPath}`,
    `leaf key:         ${dev.keyPath}`,
    `SPKI sha-256:     ${dev.spkiSha256Base64}`,
    '',
    'To trust the CA:',
    `  curl:     curl --cacert ${dev.caPath} https://localhost:8443/`,
    `  h123:     h123 get --cacert ${dev.caPath} https://localhost:8443/`,
    `  Debian:   sudo cp ${dev.caPath} /usr/local/share/ca-certificates/h123-dev.crt && sudo update-ca-certificates`,
    `  Chromium: --ignore-certificate-errors-spki-list=${dev.spkiSha256Base64}`,
    '',
  ].join('\n'));
  return 0;
}

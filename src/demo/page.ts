/**
 * The demo's `/` page: shows the protocol the page came over and consumes /stream (fetch reader)
 * and /sse (EventSource) live. Element ids are stable: the Chromium interop test reads them.
 */
export function demoPage(protocol: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>h123 demo</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 46rem; padding: 0 1rem; }
  code, pre { font: 13px ui-monospace, monospace; }
  pre { background: #f4f4f4; padding: .75rem; min-height: 6rem; }
  .proto { font-weight: bold; }
</style>
</head>
<body>
<h1>h123</h1>
<p>The server answered this page over <span class="proto" id="server-protocol">${protocol}</span>;
your browser reports <span class="proto" id="next-hop">…</span>.</p>
<h2><code>/stream</code> through a fetch reader</h2>
<pre id="stream"></pre>
<h2><code>/sse</code> through EventSource</h2>
<pre id="sse"></pre>
<p id="status">running</p>
<script>
(async () => {
  const nav = performance.getEntriesByType('navigation')[0];
  document.getElementById('next-hop').textContent = nav ? nav.nextHopProtocol : 'unknown';
  const streamEl = document.getElementById('stream');
  const sseEl = document.getElementById('sse');
  const t0 = performance.now();
  const streamDone = (async () => {
    const res = await fetch('/stream?n=5&interval=300', { cache: 'no-store' });
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      streamEl.textContent += '[' + Math.round(performance.now() - t0) + ' ms] ' + dec.decode(value);
    }
  })();
  const sseDone = new Promise((resolve) => {
    const es = new EventSource('/sse?n=5&interval=300');
    let count = 0;
    es.onmessage = (e) => {
      sseEl.textContent += 'id ' + e.lastEventId + ': ' + e.data + '\\n';
      if (++count === 5) { es.close(); resolve(); }
    };
  });
  await Promise.all([streamDone, sseDone]);
  document.getElementById('status').textContent = 'done';
})().catch((e) => { document.getElementById('status').textContent = 'error: ' + e; });
</script>
</body>
</html>
`;
}

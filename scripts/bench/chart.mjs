/** Small dependency-free SVG charts for docs/benchmarks.md. */

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

/**
 * Two panels side by side: throughput against concurrency (one line per configuration, with the
 * floor dashed) and the latency distribution (CDF) at concurrency 8.
 */
export function renderChart(signing) {
  const W = 980;
  const H = 380;
  const pad = { l: 60, r: 20, t: 40, b: 50 };
  const pw = (W - 40) / 2 - pad.l - pad.r;
  const ph = H - pad.t - pad.b;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];

  // Panel 1: throughput vs concurrency (log2 x).
  const xs = [1, 8, 64];
  const maxY =
    Math.max(...signing.flatMap((c) => [...c.points.map((p) => p.signaturesPerSecond), c.floor?.floorSignaturesPerSecond ?? 0])) * 1.1;
  const x1 = (c) => pad.l + (Math.log2(c) / 6) * pw;
  const y1 = (v) => pad.t + ph - (v / maxY) * ph;
  out.push(`<text x="${pad.l}" y="20" font-weight="bold">Throughput (signatures/s) vs concurrency</text>`);
  out.push(
    `<line x1="${pad.l}" y1="${pad.t + ph}" x2="${pad.l + pw}" y2="${pad.t + ph}" stroke="black"/><line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${pad.t + ph}" stroke="black"/>`,
  );
  for (const c of xs) out.push(`<text x="${x1(c)}" y="${pad.t + ph + 18}" text-anchor="middle">${c}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (maxY / 4) * i;
    out.push(`<text x="${pad.l - 6}" y="${y1(v) + 4}" text-anchor="end">${v.toFixed(0)}</text>`);
  }
  signing.forEach((cfg, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = cfg.points.map((p) => `${x1(p.concurrency)},${y1(p.signaturesPerSecond)}`).join(' ');
    out.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of cfg.points) out.push(`<circle cx="${x1(p.concurrency)}" cy="${y1(p.signaturesPerSecond)}" r="3" fill="${color}"/>`);
    if (cfg.floor) {
      const y = y1(cfg.floor.floorSignaturesPerSecond);
      out.push(`<line x1="${pad.l}" y1="${y}" x2="${pad.l + pw}" y2="${y}" stroke="${color}" stroke-dasharray="4 3"/>`);
    }
    out.push(
      `<text x="${pad.l + 10}" y="${pad.t + 14 + i * 15}" fill="${color}">${esc(`${cfg.suite} ${cfg.t}-of-${cfg.n}`)} (dashed: crypto floor)</text>`,
    );
  });
  out.push(`<text x="${pad.l + pw / 2}" y="${H - 10}" text-anchor="middle">concurrent clients</text>`);

  // Panel 2: latency CDF at concurrency 8.
  const ox = W / 2 + 20;
  const lat = signing.map((c) => c.points.find((p) => p.concurrency === 8)?.latenciesMs ?? []);
  const maxX = Math.max(1, ...lat.flat().map((v) => v)) * 1.05;
  const x2 = (v) => ox + pad.l + (v / maxX) * pw;
  const y2 = (f) => pad.t + ph - f * ph;
  out.push(`<text x="${ox + pad.l}" y="20" font-weight="bold">Latency distribution at concurrency 8 (CDF)</text>`);
  out.push(
    `<line x1="${ox + pad.l}" y1="${pad.t + ph}" x2="${ox + pad.l + pw}" y2="${pad.t + ph}" stroke="black"/><line x1="${ox + pad.l}" y1="${pad.t}" x2="${ox + pad.l}" y2="${pad.t + ph}" stroke="black"/>`,
  );
  for (let i = 0; i <= 4; i++) {
    out.push(`<text x="${x2((maxX / 4) * i)}" y="${pad.t + ph + 18}" text-anchor="middle">${((maxX / 4) * i).toFixed(0)}</text>`);
    out.push(`<text x="${ox + pad.l - 6}" y="${y2(i / 4) + 4}" text-anchor="end">${i * 25}%</text>`);
  }
  lat.forEach((ls, i) => {
    if (ls.length === 0) return;
    const pts = ls.map((v, j) => `${x2(v)},${y2((j + 1) / ls.length)}`).join(' ');
    out.push(`<polyline points="${pts}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2"/>`);
  });
  out.push(`<text x="${ox + pad.l + pw / 2}" y="${H - 10}" text-anchor="middle">latency (ms)</text>`);
  out.push('</svg>');
  return out.join('\n');
}

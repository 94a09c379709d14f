/**
 * Horizontal bar charts as standalone SVG (no dependencies), for docs/benchmarks.md: one bar per contender, the
 * value printed at the bar's end, Jot's bars in the accent colour.
 */

const escape = (text) =>
  String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/**
 * @param {{ title: string, unit: string, bars: { label: string, value: number, accent?: boolean }[],
 *   format?: (value: number) => string }} chart
 * @returns {string} the SVG document
 */
export function barChart({ title, unit, bars, format = (v) => Math.round(v).toLocaleString('en-US') }) {
  const labelWidth = 190;
  const barWidth = 420;
  const valueWidth = 110;
  const rowHeight = 26;
  const top = 44;
  const width = labelWidth + barWidth + valueWidth;
  const height = top + bars.length * rowHeight + 16;
  const max = Math.max(...bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)), 1e-9);
  const rows = bars.map((bar, i) => {
    const y = top + i * rowHeight;
    const value = Number.isFinite(bar.value) ? bar.value : 0;
    const w = Math.max(1, (value / max) * barWidth);
    const fill = bar.accent ? '#2563eb' : '#94a3b8';
    return [
      `<text x="${labelWidth - 8}" y="${y + 17}" text-anchor="end">${escape(bar.label)}</text>`,
      `<rect x="${labelWidth}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowHeight - 8}" rx="3" fill="${fill}"/>`,
      `<text x="${labelWidth + w + 6}" y="${y + 17}">${escape(Number.isFinite(bar.value) ? format(bar.value) : 'n/a')}</text>`,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"`,
    ` font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="13" fill="#0f172a">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="12" y="24" font-size="15" font-weight="600">${escape(title)}</text>`,
    `<text x="${width - 12}" y="24" text-anchor="end" fill="#475569">${escape(unit)}</text>`,
    ...rows,
    '</svg>\n',
  ].join('');
}

/** Reads one sample from Prometheus text output: metric name plus an exact label set (order-insensitive). */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const pair of (match[2] ?? '').split(',').filter(Boolean)) {
      const eq = pair.indexOf('=');
      found[pair.slice(0, eq)] = pair.slice(eq + 2, -1);
    }
    const wanted = Object.entries(labels);
    if (wanted.length !== Object.keys(found).length) continue;
    if (wanted.every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

/** Every metric family name in Prometheus text output. */
export function metricNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^# TYPE (\S+) (\S+)/.exec(line);
    if (!m?.[1]) continue;
    names.add(m[1]);
    if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m[1] + s);
  }
  return names;
}

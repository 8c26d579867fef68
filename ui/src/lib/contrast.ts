/** WCAG 2 contrast ratio of two `#rrggbb` colours (AA body text needs 4.5:1). */
function channel(c: number): number {
  const s = c / 255;
  return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
}

export function luminance(hex: string): number {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  if (!m) throw new Error(`"${hex}" is not a #rrggbb colour`);
  const v = parseInt(m[1], 16);
  return 0.2126 * channel((v >> 16) & 255) + 0.7152 * channel((v >> 8) & 255) + 0.0722 * channel(v & 255);
}

export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** The custom properties of each `:root { … }` block of a stylesheet, in order (light, then dark). */
export function themeVariables(css: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const block of css.matchAll(/:root\s*\{([^}]*)\}/g)) {
    const vars: Record<string, string> = {};
    for (const m of block[1].matchAll(/(--[\w-]+)\s*:\s*([^;]+);/g)) vars[m[1]] = m[2].trim();
    out.push(vars);
  }
  return out;
}

// WebKitGTK reports `navigator.language` as "C" when the desktop runs under LANG=C (servers,
// minimal sessions, CI). `Intl` rejects that tag with a RangeError, and chart code that builds
// `new Intl.NumberFormat(navigator.language)` at load (uPlot does) would then stop the whole
// app before it mounts. This module is imported first (main.ts) and makes the Intl
// constructors fall back to "en-US" for a tag they reject; valid tags are untouched.

type Ctor = { new (locales?: string | string[], options?: object): object; supportedLocalesOf?: unknown };

function tolerant<T extends Ctor>(Native: T): T {
  const Wrapped = function (this: unknown, locales?: string | string[], options?: object) {
    try {
      return new Native(locales, options);
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      return new Native('en-US', options);
    }
  } as unknown as T;
  Object.setPrototypeOf(Wrapped, Native);
  (Wrapped as unknown as { prototype: unknown }).prototype = Native.prototype;
  return Wrapped;
}

/** True when `tag` is a language tag `Intl` accepts. */
export function acceptedTag(tag: string | undefined): boolean {
  if (!tag) return true;
  try {
    new Intl.NumberFormat(tag);
    return true;
  } catch {
    return false;
  }
}

/** Installs the fallback when `language` (default: the browser's) is a tag Intl rejects. */
export function guardLocale(language: string | undefined = typeof navigator !== 'undefined' ? navigator.language : undefined): boolean {
  if (acceptedTag(language)) return false;
  Intl.NumberFormat = tolerant(Intl.NumberFormat as unknown as Ctor) as unknown as typeof Intl.NumberFormat;
  Intl.DateTimeFormat = tolerant(Intl.DateTimeFormat as unknown as Ctor) as unknown as typeof Intl.DateTimeFormat;
  return true;
}

guardLocale();

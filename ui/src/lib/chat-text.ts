/** Text extraction from the message shapes the bridge sends (string, {content:[{type,text}]}, {text}). */
export function messageText(message: unknown): string {
  if (message == null) return '';
  if (typeof message === 'string') return message;
  if (typeof message !== 'object') return String(message);
  const m = message as { content?: unknown; text?: unknown };
  if (typeof m.content === 'string') return m.content;
  if (Array.isArray(m.content)) {
    return m.content
      .map((part) => {
        if (typeof part === 'string') return part;
        if (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string') {
          return (part as { text: string }).text;
        }
        return '';
      })
      .join('');
  }
  if (typeof m.text === 'string') return m.text;
  return '';
}

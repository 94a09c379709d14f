/** Lists typed into one text field: roles separated by commas, scopes and audiences by commas or spaces. */

/** The distinct non-empty entries of a comma-separated list, trimmed, in order ("admin, support"). */
export function commaList(text: string): string[] {
  return [
    ...new Set(
      text
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry !== ''),
    ),
  ];
}

/** The distinct words of a list separated by spaces or commas, in order ("orders:read orders:write"). */
export function wordList(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter((word) => word !== ''))];
}

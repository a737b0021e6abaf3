// One report file name per trace, derived from its path below the batch
// folder so two folders holding the same name still get two reports.

/** `a/b/run 1.ndjson.gz` -> `a--b--run_1.ndjson.gz.html`; unique across `relPaths` (which must be sorted). */
export function reportNames(relPaths: string[]): string[] {
  const taken = new Set<string>();
  return relPaths.map((rel) => {
    const base = rel
      .split(/[\\/]+/)
      .filter((part) => part && part !== '.' && part !== '..')
      .map((part) => part.replace(/[^A-Za-z0-9._-]/g, '_'))
      .join('--') || 'trace';
    let name = `${base}.html`;
    for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${base}~${n}.html`;
    taken.add(name.toLowerCase());
    return name;
  });
}

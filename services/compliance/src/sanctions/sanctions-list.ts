import { readFileSync } from 'node:fs';

/** One sanctioned party; names are kept only in memory, never copied into decisions or logs. */
export interface SanctionsEntry {
  id: string;
  list: string;
  entityType: 'individual' | 'entity';
  names: string[];
  country: string;
  program: string;
}

const HEADER = ['id', 'list', 'entity_type', 'primary_name', 'aliases', 'country', 'program'];

/** Splits one CSV line (RFC 4180 quoting, no embedded newlines). */
function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted && ch === '"' && line[i + 1] === '"') {
      field += '"';
      i++;
    } else if (ch === '"') {
      quoted = !quoted;
    } else if (ch === ',' && !quoted) {
      out.push(field);
      field = '';
    } else {
      field += ch;
    }
  }
  out.push(field);
  return out;
}

/** Parses the list format of rules/sanctions.sample.csv (aliases separated by "|"). Throws naming the bad line. */
export function parseSanctionsCsv(text: string, source = 'sanctions csv'): SanctionsEntry[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = splitCsvLine(lines[0] ?? '');
  if (header.join(',') !== HEADER.join(',')) throw new Error(`${source}: header must be ${HEADER.join(',')}`);
  return lines.slice(1).map((line, i) => {
    const cells = splitCsvLine(line);
    const [id, list, entityType, primary, aliases, country, program] = cells;
    if (cells.length !== HEADER.length || !id || !primary || (entityType !== 'individual' && entityType !== 'entity')) {
      throw new Error(`${source}: line ${i + 2} is malformed`);
    }
    const names = [primary, ...(aliases ?? '').split('|')].map((n) => n.trim()).filter((n) => n !== '');
    return { id, list: list ?? '', entityType, names, country: country ?? '', program: program ?? '' };
  });
}

export function loadSanctionsFile(path: string): SanctionsEntry[] {
  return parseSanctionsCsv(readFileSync(path, 'utf8'), path);
}

// One owner per table: each table is read and written only by the module (folder under src/) whose
// entity maps it. Other modules ask the owner's service or repository functions (which take their
// transaction's EntityManager). This reads the sources as text: every TypeORM call naming an entity
// class and every SQL statement naming a table must come from the owner's folder, and raw SQL sits
// in repository files only (`*.repository.ts`), never in services or controllers.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const SRC = join(__dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

const moduleOf = (path: string) => relative(SRC, path).split(sep)[0];
const files = sources(SRC).map((path) => ({ path, module: moduleOf(path), text: readFileSync(path, 'utf8') }));

/** Entity class → table, and table → owning module, from the @Entity declarations. */
function entityMap() {
  const tableOfClass = new Map<string, string>();
  const ownerOfTable = new Map<string, string>();
  for (const file of files) {
    for (const m of file.text.matchAll(/@Entity\(\s*(?:'([a-z_]+)'|\{\s*name:\s*'([a-z_]+)')[^)]*\)[\s\S]*?export class (\w+)/g)) {
      const table = m[1] ?? m[2];
      tableOfClass.set(m[3], table);
      ownerOfTable.set(table, file.module);
    }
  }
  return { tableOfClass, ownerOfTable };
}

interface Write {
  table: string;
  module: string;
  where: string;
}

function writes(tableOfClass: Map<string, string>, tables: Set<string>): Write[] {
  const found: Write[] = [];
  for (const file of files) {
    const at = (index: number) => `${relative(SRC, file.path)}:${file.text.slice(0, index).split('\n').length}`;
    const orm = /\.(?:save|insert|update|delete|remove|increment|decrement|upsert|create|into|from|relation)\(\s*(\w+Entity)\b/g;
    for (const m of file.text.matchAll(orm)) {
      const table = tableOfClass.get(m[1]);
      // `.from(X)` also starts reads (select … from): only a delete() before it makes it a write.
      if (m[0].startsWith('.from(') && !/\.delete\(\)\s*$/.test(file.text.slice(Math.max(0, m.index - 40), m.index))) continue;
      if (table) found.push({ table, module: file.module, where: at(m.index) });
    }
    for (const m of file.text.matchAll(/\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?([a-z_]+)/g)) {
      if (tables.has(m[1])) found.push({ table: m[1], module: file.module, where: at(m.index) });
    }
  }
  return found;
}

interface Read {
  table: string;
  module: string;
  where: string;
}

/** Join tables belong to the module of the entity that declares them. */
const JOIN_TABLES: Record<string, string> = { vm_group_members: 'groups', host_group_members: 'groups' };

function reads(tableOfClass: Map<string, string>, tables: Set<string>): Read[] {
  const found: Read[] = [];
  const orm =
    /(?:\.(?:find|findOne|findOneBy|findBy|findAndCount|count|countBy|exists|existsBy|sum|getRepository|createQueryBuilder)|findOr404|assertNameFree)\(\s*(?:[\w.]+,\s*)?(\w+Entity)\b/g;
  for (const file of files) {
    const at = (index: number) => `${relative(SRC, file.path)}:${file.text.slice(0, index).split('\n').length}`;
    for (const m of file.text.matchAll(orm)) {
      const table = tableOfClass.get(m[1]);
      if (table) found.push({ table, module: file.module, where: at(m.index) });
    }
    // SQL text, and the table a list page (common/json-page.ts) is asked to read.
    for (const m of file.text.matchAll(/\b(?:FROM|JOIN)\s+"?([a-z_]+)|\btable:\s*'([a-z_]+)'/g)) {
      const named = m[1] ?? m[2];
      const table = JOIN_TABLES[named] ?? named;
      if (tables.has(table)) found.push({ table, module: file.module, where: at(m.index) });
    }
  }
  return found;
}

describe('table ownership', () => {
  const { tableOfClass, ownerOfTable } = entityMap();
  const all = writes(tableOfClass, new Set(ownerOfTable.keys()));

  it('finds every table and the writes to them (the scan itself works)', () => {
    expect([...ownerOfTable.keys()].sort()).toEqual([
      'api_tokens',
      'cluster_connectors',
      'cluster_leases',
      'cluster_policies',
      'clusters',
      'events',
      'groups',
      'hosts',
      'live_migrations',
      'passes',
      'recommendations',
      'replicas',
      'rules',
      'sample_rollups',
      'samples',
      'vms',
    ]);
    expect(new Set(all.map((w) => w.table)).size).toBe(ownerOfTable.size);
  });

  it('has every table read by its owning module only', () => {
    const all = reads(tableOfClass, new Set(ownerOfTable.keys()));
    expect(new Set(all.map((r) => r.table)).size).toBe(ownerOfTable.size);
    const foreign = all
      .filter((r) => r.module !== ownerOfTable.get(r.table))
      .map((r) => `${r.where} reads ${r.table} (owned by ${ownerOfTable.get(r.table)})`);
    expect(foreign).toEqual([]);
  });

  it('keeps raw SQL in repository files (and the database layer), out of services and controllers', () => {
    const outside = files
      // common/json-page.ts runs the list pages: its callers name a table and columns, the SQL is its own.
      .filter((f) => /\.(?:query|readRows)\s*[(<]/.test(f.text) && !f.path.endsWith('.repository.ts') && f.module !== 'database')
      .filter((f) => relative(SRC, f.path) !== join('common', 'json-page.ts'))
      .map((f) => relative(SRC, f.path));
    expect(outside).toEqual([]);
  });

  it('has every table written by its owning module only', () => {
    const foreign = all
      .filter((w) => w.module !== ownerOfTable.get(w.table))
      .map((w) => `${w.where} writes ${w.table} (owned by ${ownerOfTable.get(w.table)})`);
    expect(foreign).toEqual([]);
  });
});

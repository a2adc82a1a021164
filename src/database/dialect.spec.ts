import { numberedPlaceholders, placeholdersFor } from './dialect';

describe('SQL written once for both databases', () => {
  it('numbers the placeholders for PostgreSQL, in order', () => {
    expect(numberedPlaceholders('SELECT id FROM vms WHERE "clusterId" = ? AND name IN (?, ?) LIMIT ?')).toBe(
      'SELECT id FROM vms WHERE "clusterId" = $1 AND name IN ($2, $3) LIMIT $4',
    );
  });

  it('leaves a question mark inside a text or a quoted name alone', () => {
    expect(numberedPlaceholders(`SELECT 'why?' AS "odd?name", ? AS v WHERE note <> 'it''s ?' AND x = ?`)).toBe(
      `SELECT 'why?' AS "odd?name", $1 AS v WHERE note <> 'it''s ?' AND x = $2`,
    );
  });

  it('writes n placeholders for an IN list', () => {
    expect(placeholdersFor(3)).toBe('?, ?, ?');
    expect(numberedPlaceholders(`x IN (${placeholdersFor(2)})`)).toBe('x IN ($1, $2)');
  });
});

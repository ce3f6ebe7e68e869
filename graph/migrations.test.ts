import type { Session } from 'neo4j-driver';
import { describe, expect, it } from 'vitest';
import { openTestGraph } from '../test/services.ts';
import { SCHEMA_STATEMENTS, applyMigrations, applyOne } from './migrations.ts';

describe('schema migrations', () => {
  it('services starting together all get the schema (rules already there, or a deadlock tried again)', async () => {
    const graphs = await Promise.all([1, 2, 3, 4].map(() => openTestGraph()));
    try {
      await Promise.all(graphs.map((g) => applyMigrations(g)));
      const count = async (show: string) =>
        Number((await graphs[0]!.query(`${show} YIELD name RETURN count(*) AS c`, {})).records[0]!.get('c'));
      const total = (await count('SHOW CONSTRAINTS')) + (await count('SHOW INDEXES'));
      expect(total).toBeGreaterThanOrEqual(SCHEMA_STATEMENTS.length);
    } finally {
      for (const g of graphs) await g.close();
    }
  });

  it('a statement Neo4j refuses for good fails at once, not after 8 attempts', async () => {
    const graph = await openTestGraph();
    const session = graph.driver.session({ database: graph.database });
    let runs = 0;
    const counting = {
      run: (q: string) => {
        runs++;
        return session.run(q);
      },
    } as unknown as Session;
    try {
      await expect(applyOne(counting, 'CREATE CONSTRAINT nonsense FOR (w:Wallet) REQUIRE')).rejects.toThrow();
      expect(runs).toBe(1);
    } finally {
      await session.close();
      await graph.close();
    }
  });
});

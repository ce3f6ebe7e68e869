import { describe, expect, it } from 'vitest';
import { LEVEL, captureLogger } from '../test/log.ts';
import { cliDestination, createLogger } from './logger.ts';
import { createRedactor } from './redact.ts';

describe('component loggers', () => {
  it("a child's lines carry its component, the level and the message's fields", () => {
    const { log, lines } = captureLogger('info');
    const neo4j = log.child({ component: 'neo4j' });
    neo4j.info({ port: 7687 }, 'neo4j started');
    neo4j.warn({ timeoutMs: 12 }, 'did not stop in time');
    neo4j.debug('below the level: not written');
    log.child({ component: 'redis' }).error('gone');
    expect(
      lines.map(({ level, component, msg, port, timeoutMs }) => ({ level, component, msg, port, timeoutMs })),
    ).toEqual([
      { level: LEVEL.info, component: 'neo4j', msg: 'neo4j started', port: 7687, timeoutMs: undefined },
      { level: LEVEL.warn, component: 'neo4j', msg: 'did not stop in time', port: undefined, timeoutMs: 12 },
      { level: LEVEL.error, component: 'redis', msg: 'gone', port: undefined, timeoutMs: undefined },
    ]);
  });

  it('prints progress for a person: message, then fields; warnings say so; secrets stay masked', () => {
    const out: string[] = [];
    const log = createLogger({
      level: 'info',
      name: 'vigil',
      base: {},
      redact: createRedactor({ NEO4J_PASSWORD: 'hunter2-secret' }),
      destination: cliDestination('[infra] ', { write: (s: string) => out.push(s) }),
    }).child({ component: 'neo4j' });
    log.info({ pid: 42, bolt: 'bolt://127.0.0.1:7687' }, 'Neo4j is up');
    log.warn({ err: new Error('auth hunter2-secret refused') }, 'class-data sharing archive not made');
    log.info('schema ready');
    expect(out).toEqual([
      '[infra] Neo4j is up  pid=42 bolt=bolt://127.0.0.1:7687\n',
      '[infra] warning: class-data sharing archive not made  err=auth *** refused\n',
      '[infra] schema ready\n',
    ]);
  });
});

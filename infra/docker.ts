import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** True only when a Docker engine answers: the client alone (as on machines without an engine) is not enough. */
export async function dockerEngineAvailable(): Promise<boolean> {
  try {
    await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

export async function composeUp(projectDir: string, services: string[]): Promise<void> {
  await run('docker', ['compose', 'up', '-d', ...services], { cwd: projectDir, timeout: 600_000 });
}

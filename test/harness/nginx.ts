import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect, freePort } from './ports.js';
import type { TlsFiles } from './tls-certs.js';

const BINARIES = ['/usr/sbin/nginx', 'nginx'];
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface NginxOptions {
  /** The gateway's plain WebSocket port on 127.0.0.1. */
  readonly upstreamPort: number;
  readonly tls: TlsFiles;
  /** The address nginx connects to the gateway from (a loopback alias), so the test's own
   * direct connections come from another, untrusted address. @default '127.0.0.2' */
  readonly bindAddress?: string;
}

/**
 * A real nginx terminating TLS in front of the gateway with mutual TLS: it verifies the client
 * certificate against the test CA (optional, so a station without one reaches the gateway and
 * is refused there) and forwards it URL-encoded in `X-SSL-Client-Cert` ($ssl_client_escaped_cert).
 */
export class Nginx {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    private readonly dir: string,
    private readonly output: () => string,
  ) {}

  static async start(options: NginxOptions): Promise<Nginx> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'nginx-'));
    const bind = options.bindAddress ?? '127.0.0.2';
    const conf = `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${options.tls.serverCert};
    ssl_certificate_key ${options.tls.serverKey};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_client_certificate ${options.tls.caCert};
    ssl_verify_client optional;
    location / {
      proxy_pass http://127.0.0.1:${options.upstreamPort};
      proxy_bind ${bind};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto https;
    }
  }
}
`;
    writeFileSync(join(dir, 'nginx.conf'), conf);
    let output = '';
    const binary = BINARIES.find((b) => b.startsWith('/')) ?? 'nginx';
    const child = spawn(binary, ['-e', 'stderr', '-p', dir, '-c', join(dir, 'nginx.conf')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const nginx = new Nginx(child, port, dir, () => output);
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) break;
      if (await canConnect(port)) return nginx;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await nginx.stop();
    throw new Error(`nginx did not start: ${output}`);
  }

  get log(): string {
    return this.output();
  }

  async stop(): Promise<void> {
    const { child } = this;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    running.delete(child);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

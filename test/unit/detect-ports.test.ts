// Each rule of detectPorts on its own, over an in-memory workspace, and choosePort's decision.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { choosePort, detectPorts, type LaunchConfiguration, type PortCandidate } from '../../src/core/ports/detect';
import { parseDotenv } from '../../src/core/ports/dotenv';
import { parseJsonc } from '../../src/core/ports/jsonc';
import { pumaPort } from '../../src/core/ports/rules/ruby';

const FOLDER = '/home/ana/shop';

function workspace(files: Record<string, string> = {}, env?: Record<string, string>) {
  const read: string[] = [];
  return {
    read,
    folder: FOLDER,
    env,
    readFile: (p: string) => {
      read.push(p);
      return Promise.resolve(files[p]);
    },
  };
}

async function first(config: LaunchConfiguration, files?: Record<string, string>, env?: Record<string, string>): Promise<PortCandidate | undefined> {
  return (await detectPorts(config, workspace(files, env)))[0];
}

describe('detectPorts: environment and variables', () => {
  it('reads PORT from env over the envFile, and names where each came from', async () => {
    const files = { '.env': '# local\nexport PORT="4100"\n' };
    const config = { type: 'node', request: 'launch', program: 'server.js', envFile: '${workspaceFolder}/.env' };
    assert.deepEqual(await first(config, files), { port: 4100, source: '.env PORT', confidence: 'likely' });
    assert.deepEqual(await first({ ...config, env: { PORT: '4200' } }, files), { port: 4200, source: 'launch.json env PORT', confidence: 'likely' });
  });

  it('resolves ${env:...} from the workspace env only, and ${workspaceFolderBasename} and ${cwd} in paths', async () => {
    const config = { type: 'go', env: { PORT: '${env:SHOP_PORT}' } };
    assert.equal((await first(config, {}, { SHOP_PORT: '7001' }))?.port, 7001);
    assert.equal(await first(config), undefined); // not process.env
    const ws = workspace({ 'svc/shop.env': 'PORT=7002' });
    const found = await detectPorts({ type: 'node', cwd: '${workspaceFolder}/svc', envFile: '${cwd}/${workspaceFolderBasename}.env' }, ws);
    assert.deepEqual(found, [{ port: 7002, source: 'svc/shop.env PORT', confidence: 'likely' }]);
  });

  it('ignores ports of other servers and of the debugger itself', async () => {
    const config = { type: 'node', request: 'launch', port: 9229, env: { DB_PORT: '5432', REDIS_PORT: '6379' }, runtimeArgs: ['--inspect=9230'] };
    assert.deepEqual(await detectPorts(config, workspace()), []);
  });

  it('parses dotenv quotes, export, comments and JSONC comments and trailing commas', () => {
    assert.deepEqual(parseDotenv("export A='x # y'\nB=\"1\\n2\" # c\n# C=3\nD = 4 # note\n"), { A: 'x # y', B: '1\n2', D: '4' });
    assert.deepEqual(parseJsonc('{\n // c\n "a": "http://x", /* b */ "l": [1, 2,],\n}'), { a: 'http://x', l: [1, 2] });
  });
});

describe('detectPorts: command lines', () => {
  it('takes --port, -p and Go-style -addr=:8080 from args or runtimeArgs, the last given first', async () => {
    assert.deepEqual(await first({ type: 'go', args: ['-addr=:8080'] }), { port: 8080, source: '-addr in args', confidence: 'likely' });
    assert.deepEqual(await first({ type: 'go', args: '-addr :8081 -v' }), { port: 8081, source: '-addr in args', confidence: 'likely' });
    assert.equal((await first({ type: 'node', runtimeExecutable: 'npm', runtimeArgs: ['run', 'dev', '--', '--port', '3001'] }))?.port, 3001);
    assert.equal((await first({ type: 'node', args: ['--port=3000', '--port=3002'] }))?.port, 3002);
  });

  it('reads gunicorn --bind and -b, and :port without a host', async () => {
    assert.deepEqual(await first({ type: 'debugpy', module: 'gunicorn', args: ['--bind', '0.0.0.0:8000', 'app:app'] }), {
      port: 8000, source: '--bind in args', confidence: 'certain',
    });
    assert.equal((await first({ type: 'debugpy', module: 'gunicorn', args: ['-b', ':8080', 'app:app'] }))?.port, 8080);
    assert.deepEqual(await first({ type: 'debugpy', module: 'gunicorn', args: ['app:app'], env: { PORT: '9000' } }), {
      port: 9000, source: 'launch.json env PORT', confidence: 'certain',
    });
  });
});

describe('detectPorts: Python', () => {
  it('Django runserver addresses, manage.py found by program path, default 8000', async () => {
    for (const [addr, port] of [['8001', 8001], ['0.0.0.0:8002', 8002], ['[::]:8003', 8003]] as const) {
      assert.equal((await first({ type: 'debugpy', program: '${workspaceFolder}/web/manage.py', args: ['runserver', '--noreload', addr] }))?.port, port);
    }
    assert.deepEqual(await first({ type: 'debugpy', program: 'manage.py', args: ['runserver'] }), { port: 8000, source: 'Django default', confidence: 'guess' });
  });

  it('Flask --port and FLASK_RUN_PORT; uvicorn and FastAPI --port; their defaults', async () => {
    assert.deepEqual(await first({ type: 'debugpy', module: 'flask', args: ['run', '--port', '5001'] }), { port: 5001, source: '--port in args', confidence: 'certain' });
    assert.deepEqual(await first({ type: 'debugpy', module: 'flask', args: ['run'], env: { FLASK_RUN_PORT: '5002' } }), {
      port: 5002, source: 'launch.json env FLASK_RUN_PORT', confidence: 'certain',
    });
    assert.deepEqual(await first({ type: 'debugpy', module: 'uvicorn', args: ['main:app', '--port=8100'] }), { port: 8100, source: '--port in args', confidence: 'certain' });
    assert.deepEqual(await first({ type: 'debugpy', module: 'fastapi', args: ['dev', 'main.py'] }), { port: 8000, source: 'FastAPI default', confidence: 'guess' });
    assert.deepEqual(await first({ type: 'debugpy', program: '${workspaceFolder}/.venv/bin/uvicorn', args: ['main:app'] }), { port: 8000, source: 'uvicorn default', confidence: 'guess' });
  });

  it('a framework that ignores PORT is not given it; a plain script is', async () => {
    assert.equal((await first({ type: 'debugpy', module: 'uvicorn', args: ['main:app'], env: { PORT: '9999' } }))?.port, 8000);
    assert.equal((await first({ type: 'debugpy', program: 'app.py', env: { PORT: '9999' } }))?.port, 9999);
  });
});

describe('detectPorts: ASP.NET Core', () => {
  const settings = JSON.stringify({
    profiles: {
      iis: { commandName: 'IISExpress' },
      web: { commandName: 'Project', applicationUrl: 'https://localhost:7001;http://localhost:5001' },
      other: { commandName: 'Project', applicationUrl: 'http://localhost:5002', environmentVariables: { ASPNETCORE_ENVIRONMENT: 'Staging' } },
    },
  });

  it('prefers plain HTTP in --urls and ASPNETCORE_URLS, and they beat launchSettings', async () => {
    assert.deepEqual(await first({ type: 'coreclr', args: ['--urls', 'https://localhost:7443;http://localhost:5080'] }), {
      port: 5080, source: '--urls in args', confidence: 'certain',
    });
    const found = await detectPorts({ type: 'coreclr', cwd: 'Api', env: { ASPNETCORE_URLS: 'http://+:5090' } }, workspace({ 'Api/Properties/launchSettings.json': settings }));
    assert.deepEqual(found.map((c) => [c.port, c.confidence]), [[5090, 'certain'], [5001, 'likely']]);
    assert.equal((await first({ type: 'coreclr', env: { ASPNETCORE_HTTP_PORTS: '8081' } }))?.port, 8081);
  });

  it('uses the named launchSettingsProfile, else the first Project profile, and that profile\'s environment for appsettings', async () => {
    const files = {
      'Properties/launchSettings.json': settings,
      'appsettings.Staging.json': '{ "Kestrel": { "Endpoints": { "Http": { "Url": "http://0.0.0.0:6001" } } } }',
    };
    assert.equal((await first({ type: 'coreclr' }, files))?.source, 'Properties/launchSettings.json profile web applicationUrl');
    const staged = await detectPorts({ type: 'coreclr', launchSettingsProfile: 'other' }, workspace(files));
    assert.deepEqual(staged[0], { port: 6001, source: 'appsettings.Staging.json Kestrel endpoint Http', confidence: 'certain' });
    assert.deepEqual(staged[1], { port: 5002, source: 'Properties/launchSettings.json profile other applicationUrl', confidence: 'likely' });
  });

  it('reads appsettings.json urls and falls back to 5000', async () => {
    assert.deepEqual(await first({ type: 'coreclr' }, { 'appsettings.json': '{ "urls": "http://*:5005" }' }), { port: 5005, source: 'appsettings.json urls', confidence: 'likely' });
    assert.deepEqual(await first({ type: 'coreclr' }), { port: 5000, source: 'ASP.NET Core default', confidence: 'guess' });
  });
});

describe('detectPorts: Spring Boot', () => {
  it('--server.port in args, -Dserver.port in vmArgs and SERVER_PORT are certain', async () => {
    assert.deepEqual(await first({ type: 'java', mainClass: 'a.App', args: '--server.port=8081' }), { port: 8081, source: '--server.port in args', confidence: 'certain' });
    assert.deepEqual(await first({ type: 'java', mainClass: 'a.App', vmArgs: '-Xmx1g -Dserver.port=8082' }), { port: 8082, source: '-Dserver.port in vmArgs', confidence: 'certain' });
    assert.deepEqual(await first({ type: 'java', mainClass: 'a.App', env: { SERVER_PORT: '8083' } }), { port: 8083, source: 'launch.json env SERVER_PORT', confidence: 'certain' });
  });

  it('the active profile\'s file wins over application.properties; ${PORT:8080} placeholders resolve', async () => {
    const files = {
      'src/main/resources/application.properties': 'spring.application.name=shop\nserver.port=${PORT:8090}\n',
      'src/main/resources/application-local.yml': 'server:\n  port: 8091 # local\n',
    };
    assert.deepEqual(await first({ type: 'java', mainClass: 'a.ShopApplication' }, files), {
      port: 8090, source: 'src/main/resources/application.properties server.port', confidence: 'likely',
    });
    assert.equal((await first({ type: 'java', mainClass: 'a.ShopApplication', env: { PORT: '8095' } }, files))?.port, 8095);
    assert.equal((await first({ type: 'java', mainClass: 'a.ShopApplication', vmArgs: ['-Dspring.profiles.active=local'] }, files))?.port, 8091);
    assert.equal((await first({ type: 'java', mainClass: 'a.ShopApplication', env: { SPRING_PROFILES_ACTIVE: 'local' } }, files))?.port, 8091);
  });

  it('reads multi-document yml profiles and a module folder named by projectName', async () => {
    const yml = 'server:\n  port: 8100\n---\nspring:\n  config:\n    activate:\n      on-profile: dev\nserver:\n  port: 8101\n';
    const files = { 'orders/src/main/resources/application.yml': yml };
    assert.equal((await first({ type: 'java', mainClass: 'o.Main', projectName: 'orders' }, files))?.port, 8100);
    assert.equal((await first({ type: 'java', mainClass: 'o.Main', projectName: 'orders', args: ['--spring.profiles.active=dev'] }, files))?.port, 8101);
  });

  it('guesses 8080 only for a Spring-looking program', async () => {
    assert.deepEqual(await first({ type: 'java', mainClass: 'com.x.DemoApplication' }), { port: 8080, source: 'Spring Boot default', confidence: 'guess' });
    assert.equal(await first({ type: 'java', mainClass: 'com.x.Tool' }), undefined);
  });
});

describe('detectPorts: Ruby and PHP', () => {
  it('rails server -p, rdbg command and script, PORT, config/puma.rb, default 3000', async () => {
    assert.deepEqual(await first({ type: 'rdbg', command: 'bin/rails', script: 'server', args: ['-p', '3100'] }), { port: 3100, source: '-p in args', confidence: 'certain' });
    assert.equal((await first({ type: 'rdbg', command: 'bundle exec rails', script: 's', env: { PORT: '3200' } }))?.port, 3200);
    const puma = { 'config/puma.rb': 'threads 5, 5\nport ENV.fetch("PORT") { 3300 }\n' };
    assert.deepEqual(await first({ type: 'rdbg', command: 'bin/rails', script: 'server' }, puma), { port: 3300, source: 'config/puma.rb port', confidence: 'likely' });
    assert.deepEqual(await first({ type: 'Ruby', program: '${workspaceRoot}/bin/rails', args: ['server'] }), { port: 3000, source: 'Rails default', confidence: 'guess' });
    assert.equal(pumaPort('bind "tcp://0.0.0.0:3400"'), 3400);
    assert.equal(pumaPort('port 3500'), 3500);
  });

  it('php -S host:port, port 0 names nothing, artisan serve --port and its default', async () => {
    assert.deepEqual(await first({ type: 'php', runtimeArgs: ['-S', '0.0.0.0:8010', '-t', 'public'] }), { port: 8010, source: '-S in runtimeArgs', confidence: 'certain' });
    assert.equal(await first({ type: 'php', runtimeArgs: ['-S', 'localhost:0'] }), undefined);
    assert.equal(await first({ type: 'php', program: '${file}' }), undefined);
    assert.equal((await first({ type: 'php', program: 'artisan', args: ['serve', '--port', '8011'] }))?.port, 8011);
    assert.deepEqual(await first({ type: 'php', program: 'artisan', args: ['serve'] }), { port: 8000, source: 'Laravel default', confidence: 'guess' });
  });
});

describe('detectPorts: serverReadyAction', () => {
  it('a uriFormat with a literal port names it; a pattern or %s does not', async () => {
    assert.deepEqual(await first({ type: 'node', serverReadyAction: { pattern: 'listening on port ([0-9]+)', uriFormat: 'http://localhost:3005/health' } }), {
      port: 3005, source: 'serverReadyAction uriFormat', confidence: 'likely',
    });
    assert.equal(await first({ type: 'node', serverReadyAction: { pattern: 'listening on port ([0-9]+)', uriFormat: 'http://localhost:%s' } }), undefined);
  });
});

describe('choosePort', () => {
  const c = (port: number, confidence: PortCandidate['confidence'], source = `s${port}`): PortCandidate => ({ port, source, confidence });

  it('takes one certain candidate over others, and agreeing sources without asking', () => {
    assert.deepEqual(choosePort([c(8000, 'certain', '--port in args'), c(3000, 'likely'), c(5000, 'guess')]), { port: 8000, source: '--port in args' });
    assert.deepEqual(choosePort([c(4000, 'likely', 'a'), c(4000, 'likely', 'b'), c(5000, 'guess')]), { port: 4000, source: 'a' });
    assert.deepEqual(choosePort([c(5000, 'guess', 'Flask default')]), { port: 5000, source: 'Flask default' });
  });

  it('asks when the best tier disagrees, listing each port once with its best source', () => {
    const answer = choosePort([c(3000, 'likely', 'env PORT'), c(4000, 'likely', '--port in args'), c(3000, 'guess', 'default')]);
    assert.deepEqual(answer, { ask: [c(3000, 'likely', 'env PORT'), c(4000, 'likely', '--port in args')] });
    assert.deepEqual(choosePort([c(5000, 'guess'), c(6000, 'certain'), c(5000, 'certain', 'x')]), { ask: [c(5000, 'certain', 'x'), c(6000, 'certain')] });
  });

  it('says none when there is nothing', () => {
    assert.deepEqual(choosePort([]), { none: true });
  });
});

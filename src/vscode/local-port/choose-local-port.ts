// Picks the local port for an intercept: taken without a question when the candidates agree, the
// remembered answer for this service and folder when they do not, and otherwise asked, with every
// candidate and where it came from; the answer is remembered.
import * as vscode from 'vscode';
import { choosePort } from '../../core/ports/detect';
import type { LocalPortCandidate } from './candidates';

export interface ChosenPort {
  readonly port: number;
  readonly source: string;
  readonly candidate?: LocalPortCandidate;
}

const rememberKey = (serviceId: string, folder: string | undefined) => `intercept.localPort:${serviceId}:${folder ?? ''}`;

function parsePort(text: string): number | undefined {
  const t = text.trim();
  return /^\d{1,5}$/.test(t) && Number(t) >= 1 && Number(t) <= 65535 ? Number(t) : undefined;
}

export async function chooseLocalPort(candidates: readonly LocalPortCandidate[], serviceId: string, state: vscode.Memento): Promise<ChosenPort | undefined> {
  const choice = choosePort(candidates);
  if ('port' in choice) {
    return { port: choice.port, source: choice.source, candidate: candidates.find((c) => c.port === choice.port && c.source === choice.source) };
  }
  // In a multi-root workspace the candidates come from several folders: the answer is remembered for
  // the folder it belongs to, and looked up in each candidate's folder in turn.
  const folders = [...new Set([...candidates.map((c) => c.folder?.uri.toString()), vscode.workspace.workspaceFolders?.[0]?.uri.toString()])];
  for (const folder of folders) {
    const remembered = state.get<number>(rememberKey(serviceId, folder));
    if (remembered === undefined) continue;
    const candidate = candidates.find((c) => c.port === remembered && c.folder?.uri.toString() === folder);
    if ('none' in choice || candidate) return { port: remembered, source: 'your earlier answer for this service', candidate };
  }
  const asked = 'ask' in choice ? choice.ask : [];
  const picked = await askPort(asked as LocalPortCandidate[]);
  if (picked === undefined) return undefined;
  await state.update(rememberKey(serviceId, picked.candidate?.folder?.uri.toString() ?? folders[0]), picked.port);
  return picked;
}

/** Where a candidate came from: its launch configuration, and its folder when the workspace has several. */
function candidateDetail(c: LocalPortCandidate): string {
  const multiRoot = (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
  const where = [c.launch ? `launch configuration "${c.launch}"` : undefined, multiRoot && c.folder ? `folder ${c.folder.name}` : undefined].filter(Boolean).join(' in ');
  return where ? `${where} · ${c.confidence}` : c.confidence;
}

async function askPort(candidates: readonly LocalPortCandidate[]): Promise<ChosenPort | undefined> {
  const OTHER = 'Another port…';
  if (candidates.length > 0) {
    const items = [
      ...candidates.map((c) => ({ label: String(c.port), description: c.source, detail: candidateDetail(c), candidate: c })),
      { label: OTHER, description: 'type the port your program listens on', candidate: undefined },
    ];
    const pick = await vscode.window.showQuickPick(items, { title: 'Which local port does your program listen on?', placeHolder: 'Intercepted requests go to 127.0.0.1 on this port', ignoreFocusOut: true });
    if (!pick) return undefined;
    if (pick.candidate) return { port: pick.candidate.port, source: pick.candidate.source, candidate: pick.candidate };
  }
  const text = await vscode.window.showInputBox({
    title: 'Local port of the program you debug',
    prompt: 'No launch configuration or debug session names a port: which port does your program listen on?',
    placeHolder: '3000',
    ignoreFocusOut: true,
    validateInput: (v) => (parsePort(v) === undefined ? 'A port number, 1 to 65535' : undefined),
  });
  const port = text === undefined ? undefined : parsePort(text);
  return port === undefined ? undefined : { port, source: 'your answer' };
}

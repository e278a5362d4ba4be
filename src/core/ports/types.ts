// The shapes detectPorts reads and answers with.

/** A port the debugged program will probably listen on, and where that came from, in words. */
export interface PortCandidate {
  port: number;
  /** Where it was read, as a person would say it: "launch.json env PORT", "Flask default". */
  source: string;
  /** certain: the launch configuration says it to a server that obeys; likely: a file or a
   *  convention the program probably follows; guess: the framework's default. */
  confidence: 'certain' | 'likely' | 'guess';
}

/** A debug configuration object as found in launch.json (only the fields read here are typed). */
export interface LaunchConfiguration {
  type?: string;
  request?: string;
  name?: string;
  program?: string;
  module?: string;
  args?: string | string[];
  runtimeArgs?: string | string[];
  runtimeExecutable?: string;
  vmArgs?: string | string[];
  cwd?: string;
  env?: Record<string, string | null | undefined>;
  envFile?: string;
  [key: string]: unknown;
}

export interface PortWorkspace {
  /** The workspace folder, absolute. */
  folder: string;
  /** A file's text, or undefined when it does not exist; path is relative to the folder or absolute. */
  readFile(path: string): Promise<string | undefined>;
  /** What ${env:NAME} resolves to; none when absent (the editor's own environment is never read here). */
  env?: Record<string, string | undefined>;
}

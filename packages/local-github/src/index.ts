// A loopback emulator of the GitHub REST API (version 2022-11-28) for the endpoints a pull request
// preview action uses. Like local-aws it is a judge: it imports nothing from core or the actions.
import { GitHubServer, type RequestLogEntry } from './server.js';
import type {
  Comment,
  Deployment,
  DeploymentStatus,
  PullRequest,
  PullRequestSpec,
  TokenSpec,
} from './store.js';

export type {
  Comment,
  Deployment,
  DeploymentStatus,
  PullRequest,
  PullRequestSpec,
  RequestLogEntry,
  TokenSpec,
};
export { nodeId } from './representations.js';

export interface LocalGitHubState {
  comments: Comment[];
  deployments: Deployment[];
  // Keyed by deployment id, oldest first.
  statuses: Record<string, DeploymentStatus[]>;
  pullRequests: PullRequest[];
}

export interface LocalGitHub {
  // What GITHUB_API_URL is set to, e.g. http://127.0.0.1:PORT.
  url: string;
  stop(): Promise<void>;
  addToken(spec: TokenSpec): void;
  setPullRequest(owner: string, repo: string, number: number, spec: PullRequestSpec): void;
  state(): LocalGitHubState;
  requests(): RequestLogEntry[];
}

export async function startLocalGitHub(options: { tokens?: TokenSpec[] } = {}): Promise<LocalGitHub> {
  const server = new GitHubServer();
  await server.listen();
  for (const token of options.tokens ?? []) server.addToken(token);
  const { store } = server;
  const copy = <T>(value: T): T => structuredClone(value);
  return {
    url: server.url,
    stop: () => server.close(),
    addToken: (spec) => server.addToken(spec),
    setPullRequest: (owner, repo, number, spec) => void store.setPullRequest(owner, repo, number, spec),
    state: () => ({
      comments: copy(store.comments),
      deployments: copy(store.deployments),
      statuses: Object.fromEntries(
        store.deployments.map((d) => [String(d.id), copy(store.statusesOf(d.id))]),
      ),
      pullRequests: copy(store.pullRequests),
    }),
    requests: () => copy(server.log),
  };
}

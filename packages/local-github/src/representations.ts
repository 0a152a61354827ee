// The JSON GitHub answers for each record (REST API version 2022-11-28), its URLs formed from the
// server's own address the way api.github.com forms them (web pages on the same origin, like GHES).
import type { Comment, Deployment, DeploymentStatus, PullRequest, Repository, Store, User } from './store.js';
import { fakeSha, sameRepo } from './store.js';

// GitHub's legacy global ids: base64 of "<length of type, 2 digits>:<Type><id>", e.g. 04:User1.
export const nodeId = (type: string, id: number): string =>
  Buffer.from(`${String(type.length).padStart(2, '0')}:${type}${id}`).toString('base64');

export class Representations {
  constructor(
    private readonly base: string,
    private readonly store: Store,
  ) {}

  simpleUser(user: User) {
    const api = `${this.base}/users/${encodeURIComponent(user.login)}`;
    const bot = user.type === 'Bot';
    return {
      login: user.login,
      id: user.id,
      node_id: nodeId(bot ? 'Bot' : 'User', user.id),
      avatar_url: `${this.base}/avatars/u/${user.id}?v=4`,
      gravatar_id: '',
      url: api,
      html_url: bot
        ? `${this.base}/apps/${user.login.replace(/\[bot\]$/, '')}`
        : `${this.base}/${user.login}`,
      followers_url: `${api}/followers`,
      following_url: `${api}/following{/other_user}`,
      gists_url: `${api}/gists{/gist_id}`,
      starred_url: `${api}/starred{/owner}{/repo}`,
      subscriptions_url: `${api}/subscriptions`,
      organizations_url: `${api}/orgs`,
      repos_url: `${api}/repos`,
      events_url: `${api}/events{/privacy}`,
      received_events_url: `${api}/received_events`,
      type: user.type,
      user_view_type: 'public',
      site_admin: false,
    };
  }

  // GET /user for a user token: the private view of oneself.
  privateUser(user: User) {
    return {
      ...this.simpleUser(user),
      user_view_type: 'private',
      name: user.login,
      company: null,
      blog: '',
      location: null,
      email: null,
      notification_email: null,
      hireable: null,
      bio: null,
      twitter_username: null,
      public_repos: 0,
      public_gists: 0,
      followers: 0,
      following: 0,
      created_at: user.createdAt,
      updated_at: user.createdAt,
      private_gists: 0,
      total_private_repos: 0,
      owned_private_repos: 0,
      disk_usage: 0,
      collaborators: 0,
      two_factor_authentication: true,
    };
  }

  private user(login: string) {
    return this.simpleUser(this.store.user(login));
  }

  repository(repo: Repository, fork = false) {
    const full = `${repo.owner}/${repo.name}`;
    const api = `${this.base}/repos/${full}`;
    const host = new URL(this.base).host;
    return {
      id: repo.id,
      node_id: nodeId('Repository', repo.id),
      name: repo.name,
      full_name: full,
      private: false,
      owner: this.user(repo.owner),
      html_url: `${this.base}/${full}`,
      description: null,
      fork,
      url: api,
      archive_url: `${api}/{archive_format}{/ref}`,
      assignees_url: `${api}/assignees{/user}`,
      blobs_url: `${api}/git/blobs{/sha}`,
      branches_url: `${api}/branches{/branch}`,
      collaborators_url: `${api}/collaborators{/collaborator}`,
      comments_url: `${api}/comments{/number}`,
      commits_url: `${api}/commits{/sha}`,
      compare_url: `${api}/compare/{base}...{head}`,
      contents_url: `${api}/contents/{+path}`,
      contributors_url: `${api}/contributors`,
      deployments_url: `${api}/deployments`,
      downloads_url: `${api}/downloads`,
      events_url: `${api}/events`,
      forks_url: `${api}/forks`,
      git_commits_url: `${api}/git/commits{/sha}`,
      git_refs_url: `${api}/git/refs{/sha}`,
      git_tags_url: `${api}/git/tags{/sha}`,
      git_url: `git://${host}/${full}.git`,
      issue_comment_url: `${api}/issues/comments{/number}`,
      issue_events_url: `${api}/issues/events{/number}`,
      issues_url: `${api}/issues{/number}`,
      keys_url: `${api}/keys{/key_id}`,
      labels_url: `${api}/labels{/name}`,
      languages_url: `${api}/languages`,
      merges_url: `${api}/merges`,
      milestones_url: `${api}/milestones{/number}`,
      notifications_url: `${api}/notifications{?since,all,participating}`,
      pulls_url: `${api}/pulls{/number}`,
      releases_url: `${api}/releases{/id}`,
      ssh_url: `git@${host}:${full}.git`,
      stargazers_url: `${api}/stargazers`,
      statuses_url: `${api}/statuses/{sha}`,
      subscribers_url: `${api}/subscribers`,
      subscription_url: `${api}/subscription`,
      tags_url: `${api}/tags`,
      teams_url: `${api}/teams`,
      trees_url: `${api}/git/trees{/sha}`,
      clone_url: `${this.base}/${full}.git`,
      mirror_url: null,
      hooks_url: `${api}/hooks`,
      svn_url: `${this.base}/${full}`,
      homepage: null,
      language: null,
      forks_count: 0,
      stargazers_count: 0,
      watchers_count: 0,
      size: 0,
      default_branch: 'main',
      open_issues_count: 0,
      is_template: false,
      topics: [],
      has_issues: true,
      has_projects: true,
      has_wiki: true,
      has_pages: false,
      has_downloads: true,
      has_discussions: false,
      archived: false,
      disabled: false,
      visibility: 'public',
      pushed_at: repo.createdAt,
      created_at: repo.createdAt,
      updated_at: repo.createdAt,
      allow_forking: true,
      web_commit_signoff_required: false,
      license: null,
      forks: 0,
      open_issues: 0,
      watchers: 0,
    };
  }

  // GET /pulls lists the simple form; GET /pulls/{n} adds the merge and size fields.
  pullRequestSimple(pull: PullRequest) {
    const base = this.store.ensureRepository(pull.owner, pull.repo);
    const head = this.store.ensureRepository(pull.headOwner, pull.repo);
    const full = `${pull.owner}/${pull.repo}`;
    const api = `${this.base}/repos/${full}`;
    const html = `${this.base}/${full}/pull/${pull.number}`;
    const mergedAt = pull.merged ? pull.closedAt : null;
    const side = (repo: Repository, ref: string, sha: string, fork: boolean) => ({
      label: `${repo.owner}:${ref}`,
      ref,
      sha,
      user: this.user(repo.owner),
      repo: this.repository(repo, fork),
    });
    return {
      url: `${api}/pulls/${pull.number}`,
      id: pull.id,
      node_id: nodeId('PullRequest', pull.id),
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      issue_url: `${api}/issues/${pull.number}`,
      commits_url: `${api}/pulls/${pull.number}/commits`,
      review_comments_url: `${api}/pulls/${pull.number}/comments`,
      review_comment_url: `${api}/pulls/comments{/number}`,
      comments_url: `${api}/issues/${pull.number}/comments`,
      statuses_url: `${api}/statuses/${pull.headSha}`,
      number: pull.number,
      state: pull.state,
      locked: false,
      title: `Pull request #${pull.number}`,
      user: this.user(pull.author),
      body: null,
      labels: [],
      milestone: null,
      active_lock_reason: null,
      created_at: pull.createdAt,
      updated_at: pull.updatedAt,
      closed_at: pull.closedAt,
      merged_at: mergedAt,
      merge_commit_sha: pull.merged ? fakeSha(`merge:${full}#${pull.number}`) : null,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      head: side(head, pull.headRef, pull.headSha, pull.fork),
      base: side(base, pull.baseRef, fakeSha(`${full}:${pull.baseRef}`), false),
      _links: {
        self: { href: `${api}/pulls/${pull.number}` },
        html: { href: html },
        issue: { href: `${api}/issues/${pull.number}` },
        comments: { href: `${api}/issues/${pull.number}/comments` },
        review_comments: { href: `${api}/pulls/${pull.number}/comments` },
        review_comment: { href: `${api}/pulls/comments{/number}` },
        commits: { href: `${api}/pulls/${pull.number}/commits` },
        statuses: { href: `${api}/statuses/${pull.headSha}` },
      },
      author_association: pull.fork ? 'CONTRIBUTOR' : 'OWNER',
      auto_merge: null,
      draft: false,
    };
  }

  pullRequest(pull: PullRequest) {
    return {
      ...this.pullRequestSimple(pull),
      merged: pull.merged,
      mergeable: null,
      rebaseable: null,
      mergeable_state: 'unknown',
      merged_by: pull.merged ? this.user(pull.owner) : null,
      comments: this.store.comments.filter(
        (c) => c.issueNumber === pull.number && sameRepo(c, pull.owner, pull.repo),
      ).length,
      review_comments: 0,
      maintainer_can_modify: false,
      commits: 1,
      additions: 0,
      deletions: 0,
      changed_files: 0,
    };
  }

  comment(comment: Comment) {
    const full = `${comment.owner}/${comment.repo}`;
    return {
      url: `${this.base}/repos/${full}/issues/comments/${comment.id}`,
      html_url: `${this.base}/${full}/pull/${comment.issueNumber}#issuecomment-${comment.id}`,
      issue_url: `${this.base}/repos/${full}/issues/${comment.issueNumber}`,
      id: comment.id,
      node_id: nodeId('IssueComment', comment.id),
      user: this.user(comment.user),
      created_at: comment.createdAt,
      updated_at: comment.updatedAt,
      author_association: comment.user === comment.owner ? 'OWNER' : 'NONE',
      body: comment.body,
      performed_via_github_app: null,
    };
  }

  deployment(deployment: Deployment) {
    const repo = `${this.base}/repos/${deployment.owner}/${deployment.repo}`;
    return {
      url: `${repo}/deployments/${deployment.id}`,
      id: deployment.id,
      node_id: nodeId('Deployment', deployment.id),
      task: deployment.task,
      original_environment: deployment.environment,
      environment: deployment.environment,
      description: deployment.description,
      created_at: deployment.createdAt,
      updated_at: deployment.updatedAt,
      statuses_url: `${repo}/deployments/${deployment.id}/statuses`,
      repository_url: repo,
      creator: this.user(deployment.creator),
      sha: deployment.sha,
      ref: deployment.ref,
      payload: deployment.payload,
      transient_environment: deployment.transientEnvironment,
      production_environment: deployment.productionEnvironment,
      performed_via_github_app: null,
    };
  }

  status(deployment: Deployment, status: DeploymentStatus) {
    const repo = `${this.base}/repos/${deployment.owner}/${deployment.repo}`;
    return {
      url: `${repo}/deployments/${deployment.id}/statuses/${status.id}`,
      id: status.id,
      node_id: nodeId('DeploymentStatus', status.id),
      state: status.state,
      creator: this.user(status.creator),
      description: status.description,
      environment: status.environment,
      target_url: status.logUrl,
      created_at: status.createdAt,
      updated_at: status.updatedAt,
      deployment_url: `${repo}/deployments/${deployment.id}`,
      repository_url: repo,
      environment_url: status.environmentUrl,
      log_url: status.logUrl,
      performed_via_github_app: null,
    };
  }
}

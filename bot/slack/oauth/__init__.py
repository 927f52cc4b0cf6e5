"""OAuth mode: the app installed in any number of workspaces, each request with its own token.

With SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_SIGNING_SECRET set and no
SLACK_BOT_TOKEN (bot/slack/config.py):

- `flow.py`: puts it together (`build_oauth`): the install flow, the authorize
  Bolt runs per request, the workspaces;
- `web.py`: `GET /slack/install` and `GET /slack/oauth_redirect`;
- `pages.py`: the install, installed and not-installed pages;
- `stores.py`: slack_sdk's SQLAlchemy installation and state stores on the
  app's database (tables from the app's migrations);
- `workspaces.py`: installations, token refresh under a lock, uninstall;
- `locks.py`: the lock across instances (Redis, PostgreSQL, or the process).
"""

"""Calls to Slack reuse kept-alive connections: the Web API and response_urls alike."""

from __future__ import annotations

from slack_harness import Harness, running_app

from bot.slack.pool import PooledRespond


async def test_response_url_posts_share_a_connection(harness: Harness) -> None:
    urls = []
    for n in range(5):
        _, url = await harness.command(f"d{n}.example")
        await harness.wait_for(lambda calls, url=url: harness.standin.response_posts(url))
        urls.append(url)
    ports = {post.peer for url in urls for post in harness.standin.response_posts(url)}
    assert len(ports) == 1


async def test_web_api_calls_share_a_connection(harness: Harness) -> None:
    for n in range(5):
        await harness.send(harness.slack.mention(f"d{n}.example", channel=f"C0POOL{n}"))
        await harness.wait_for(
            lambda calls, n=n: [
                c
                for c in calls
                if c.method == "chat.postMessage" and c.args["channel"] == f"C0POOL{n}"
            ]
        )
    posts = harness.standin.calls_to("chat.postMessage")
    assert len(posts) == 5
    assert len({c.peer for c in posts}) == 1


async def test_listeners_respond_through_the_pool_and_it_closes_at_shutdown() -> None:
    seen: list[object] = []
    async with running_app() as h:
        original = PooledRespond.__call__

        async def spy(self: PooledRespond, *args: object, **kw: object) -> object:
            seen.append(self.session)
            return await original(self, *args, **kw)  # type: ignore[arg-type]

        PooledRespond.__call__ = spy  # type: ignore[method-assign]
        try:
            _, url = await h.command("good.example")
            await h.wait_for(lambda calls: h.standin.response_posts(url))
        finally:
            PooledRespond.__call__ = original  # type: ignore[method-assign]
        session = h.services.pool.session
        assert seen
        assert seen[0] is session
        assert h.app.client.session is session
    assert session is not None
    assert session.closed

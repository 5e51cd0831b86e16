"""MODEL_PROVIDER=azure-openai and azure-anthropic against fakes that check Azure's URL forms,
api-version, api-key / x-api-key headers and Foundry's beta list."""

from __future__ import annotations

import httpx
import pytest
from harness.fake_anthropic import AnthropicGuard
from harness.fake_azure import AzureOpenAIGuard
from harness.fake_model import FakeModel
from harness.servers import serve_asgi, serve_lynkr
from harness.wire import Reply, ToolCall
from provider_helpers import claude_body, post_json
from sse_client import stream_events

from lynkr.config.errors import SettingsError
from lynkr.config.settings import load_settings
from lynkr.model.events import MessageStop, TextDelta
from lynkr.providers.profiles import BETAS

KEY = "azure-secret-key"
FOUNDRY_BETAS = BETAS["azure-anthropic"]


def run(env: dict[str, str], guard: object, body: dict, replies: list[Reply]
        ) -> tuple[httpx.Response, FakeModel]:
    fake = FakeModel(replies, guard)  # type: ignore[arg-type]
    with serve_asgi(fake) as upstream:
        settings = {k: v.replace("UPSTREAM", upstream) for k, v in env.items()}
        with serve_lynkr({**settings, "LOG_LEVEL": "warning"}) as url:
            return post_json(url, body), fake


AZURE_FORMS = {
    "resource+deployment": {"AZURE_OPENAI_ENDPOINT": "UPSTREAM",
                            "AZURE_OPENAI_DEPLOYMENT": "gpt-4o-prod"},
    "full-deployment-url": {"AZURE_OPENAI_ENDPOINT": "UPSTREAM/openai/deployments/gpt-4o-prod/"
                            "chat/completions?api-version=2024-10-21"},
    "v1": {"AZURE_OPENAI_ENDPOINT": "UPSTREAM/openai/v1/",
           "AZURE_OPENAI_DEPLOYMENT": "gpt-4o-prod"},
}


@pytest.mark.parametrize("form", list(AZURE_FORMS))
def test_azure_openai_url_forms(form: str) -> None:
    env = {"MODEL_PROVIDER": "azure-openai", "AZURE_OPENAI_API_KEY": KEY, **AZURE_FORMS[form]}
    reply = Reply(text="Hi from Azure.", tool_calls=(ToolCall("Bash", {"command": "ls"}),))
    response, fake = run(env, AzureOpenAIGuard(KEY, "gpt-4o-prod"), claude_body(), [reply])
    assert response.status_code == 200, response.text
    assert fake.rejected == []
    [call] = fake.calls
    assert call.headers["api-key"] == KEY and "authorization" not in call.headers
    assert call.body["model"] == "gpt-4o-prod" and call.body["max_tokens"] == 16384
    assert "reasoning_effort" not in call.body  # gpt-4o does not reason
    message = response.json()
    assert [b["type"] for b in message["content"]] == ["text", "tool_use"]
    assert message["content"][0]["text"] == "Hi from Azure."


def test_azure_openai_reasoning_deployment_gets_effort() -> None:
    env = {"MODEL_PROVIDER": "azure-openai", "AZURE_OPENAI_API_KEY": KEY,
           "AZURE_OPENAI_ENDPOINT": "UPSTREAM", "AZURE_OPENAI_DEPLOYMENT": "gpt-5-mini"}
    response, fake = run(env, AzureOpenAIGuard(KEY, "gpt-5-mini"), claude_body(),
                         [Reply(text="ok")])
    assert response.status_code == 200
    body = fake.calls[0].body
    assert body["reasoning_effort"] == "medium"  # adaptive + output_config.effort medium
    # gpt-5-mini writes up to 128000 tokens: the client's 128000 stays (no 16384 cap)
    assert body["max_completion_tokens"] == 128000 and "max_tokens" not in body


def test_azure_openai_wrong_version_is_an_upstream_error() -> None:
    env = {"MODEL_PROVIDER": "azure-openai", "AZURE_OPENAI_API_KEY": KEY,
           "AZURE_OPENAI_ENDPOINT": "UPSTREAM", "AZURE_OPENAI_DEPLOYMENT": "gpt-4o-prod",
           "AZURE_OPENAI_API_VERSION": "2023-05-15"}
    response, _ = run(env, AzureOpenAIGuard(KEY, "gpt-4o-prod"), claude_body(),
                      [Reply(text="ok")])
    assert response.status_code >= 400
    assert "api-version" in response.json()["error"]["message"]


@pytest.mark.parametrize(("env", "message"), [
    ({"AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com"},
     "AZURE_OPENAI_DEPLOYMENT is required when AZURE_OPENAI_ENDPOINT is a resource URL"),
    ({"AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com/openai/v1"},
     "AZURE_OPENAI_DEPLOYMENT is required with a v1 AZURE_OPENAI_ENDPOINT"),
    ({"AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com/something/else",
      "AZURE_OPENAI_DEPLOYMENT": "d"}, "AZURE_OPENAI_ENDPOINT must be a resource URL"),
    ({"AZURE_OPENAI_DEPLOYMENT": "d"}, "AZURE_OPENAI_ENDPOINT is required"),
])
def test_azure_openai_start_up_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({"MODEL_PROVIDER": "azure-openai", "AZURE_OPENAI_API_KEY": "k", **env},
                      env_file="/nonexistent/.env")
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_azure_anthropic_filters_betas_and_names_the_deployment() -> None:
    env = {"MODEL_PROVIDER": "azure-anthropic", "AZURE_ANTHROPIC_API_KEY": KEY,
           "AZURE_ANTHROPIC_ENDPOINT": "UPSTREAM/anthropic/v1/messages",
           "AZURE_ANTHROPIC_MODEL": "claude-sonnet-4-5-deploy"}
    guard = AnthropicGuard(KEY, betas=FOUNDRY_BETAS)
    response, fake = run(env, guard, claude_body(), [Reply(text="Hi from Foundry.")])
    assert response.status_code == 200, response.text
    [call] = fake.calls
    assert call.path == "/anthropic/v1/messages"
    assert call.headers["x-api-key"] == KEY
    # claude-code-20250219 is not Foundry's: filtered out
    assert call.headers["anthropic-beta"] == ("interleaved-thinking-2025-05-14,"
                                              "context-management-2025-06-27,effort-2025-11-24")
    assert call.body["model"] == "claude-sonnet-4-5-deploy"
    assert call.body["system"][1]["cache_control"] == {"type": "ephemeral"}
    assert response.json()["content"] == [{"type": "text", "text": "Hi from Foundry."}]


def test_azure_anthropic_streams() -> None:
    fake = FakeModel([Reply(text="streamed")], AnthropicGuard(KEY, betas=FOUNDRY_BETAS))
    with serve_asgi(fake) as upstream:
        env = {"MODEL_PROVIDER": "azure-anthropic", "AZURE_ANTHROPIC_API_KEY": KEY,
               "AZURE_ANTHROPIC_ENDPOINT": upstream + "/anthropic", "LOG_LEVEL": "warning"}
        with serve_lynkr(env) as url, httpx.Client() as c:
            _, _, events = stream_events(c, url, claude_body())
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "streamed"
    assert events[-1] == MessageStop()
    assert fake.calls[0].body["model"] == "claude-opus-5-5"  # no deployment set: passed through


def test_azure_anthropic_beta_list_from_the_environment() -> None:
    env = {"MODEL_PROVIDER": "azure-anthropic", "AZURE_ANTHROPIC_API_KEY": KEY,
           "AZURE_ANTHROPIC_ENDPOINT": "UPSTREAM/anthropic/v1/messages",
           "AZURE_ANTHROPIC_BETAS": "context-management-2025-06-27"}
    guard = AnthropicGuard(KEY, betas=("context-management-2025-06-27",))
    response, fake = run(env, guard, claude_body(), [Reply(text="ok")])
    assert response.status_code == 200, response.text
    assert fake.calls[0].headers["anthropic-beta"] == "context-management-2025-06-27"

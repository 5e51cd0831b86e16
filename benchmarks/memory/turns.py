"""Labelled conversation turns for the surprise heuristic: what a user said, and whether it holds
something worth remembering (and of which type), or not.

Written as users of a coding assistant talk: statements of preference, decisions, durable facts,
names and relationships (to remember), among questions, requests, bug reports, passing states,
chat, pasted output and things already known (not to remember). Each template is expanded with
three sets of values, so the set has 348 turns; ``known`` gives the memories a turn repeats.
"""

from __future__ import annotations

import random

import attrs

from lynkr.model.memory import MemoryKind

VALUES = {
    "lang": ("Python", "Rust", "Go", "TypeScript", "Kotlin"),
    "tool": ("ruff", "black", "mypy", "eslint", "prettier"),
    "db": ("PostgreSQL", "MySQL", "SQLite", "MongoDB"),
    "svc": ("billing", "search", "auth", "checkout", "ledger"),
    "person": ("Alice", "Kenji", "Priya", "Marco", "Zoe"),
    "team": ("platform", "payments", "data", "mobile"),
    "cloud": ("AWS", "GCP", "Azure", "Fly.io"),
    "file": ("src/app.py", "lib/parser.ts", "cmd/main.go", "tests/test_api.py"),
    "num": ("3", "12", "42", "250"),
}

# (template, kind or None)
TEMPLATES: tuple[tuple[str, MemoryKind | None], ...] = (
    # preferences
    ("I prefer {lang} for scripting.", "preference"),
    ("I really like small, focused functions.", "preference"),
    ("I hate trailing commas in function calls.", "preference"),
    ("Please always use type hints in new code.", "preference"),
    ("Never use print for debugging in this codebase, use the logger.", "preference"),
    ("I'd rather have explicit loops than clever comprehensions.", "preference"),
    ("My favourite test runner is pytest with the -x flag.", "preference"),
    ("I don't like emojis in commit messages.", "preference"),
    ("Always run {tool} before you show me a diff!", "preference"),
    ("I usually write my SQL in uppercase keywords.", "preference"),
    ("Tabs, not spaces, in every Makefile we own.", "preference"),
    ("Answers in bullet points work best for me.", "preference"),
    ("Use single quotes for strings in {lang} files, that's my style.", "preference"),
    ("I like to see the plan before you change any file.", "preference"),
    ("My preferred shell is zsh with vi keybindings.", "preference"),
    ("Please never force-push to main.", "preference"),
    # decisions
    ("We decided to use {db} for the {svc} service.", "decision"),
    ("Let's go with {cloud} for the new cluster.", "decision"),
    ("We agreed to drop support for Python 3.8.", "decision"),
    ("From now on every PR needs two approvals.", "decision"),
    ("We switched from Jenkins to GitHub Actions last month.", "decision"),
    ("The team has settled on trunk-based development.", "decision"),
    ("We'll use feature flags for the {svc} rollout.", "decision"),
    ("Going forward, migrations must be backwards compatible.", "decision"),
    ("We chose gRPC over REST for internal calls.", "decision"),
    ("I decided to keep the {svc} API versioned in the URL.", "decision"),
    ("We migrated the {svc} service to {db} in March.", "decision"),
    ("Decision: logs are JSON lines everywhere.", "decision"),
    ("Our decision is to vendor the protobuf files.", "decision"),
    ("We're standardizing on {tool} for linting.", "decision"),
    # facts
    ("Our staging database is {db} 15.", "fact"),
    ("The {svc} service runs on {cloud}.", "fact"),
    ("We deploy every Tuesday at 14:00 UTC.", "fact"),
    ("My laptop is an M2 MacBook with 16 GB of RAM.", "fact"),
    ("The monorepo has about {num} packages.", "fact"),
    ("Our API gateway is Kong.", "fact"),
    ("The frontend is written in {lang}.", "fact"),
    ("I work in the Berlin office.", "fact"),
    ("The {svc} service uses Redis for rate limiting.", "fact"),
    ("This repo targets Node 20.", "fact"),
    ("We use Terraform for all infrastructure.", "fact"),
    ("The production cluster has {num} nodes.", "fact"),
    ("Our on-call rotation is weekly.", "fact"),
    ("The data warehouse is Snowflake.", "fact"),
    ("I am the only backend developer here.", "fact"),
    ("Error budgets are tracked in Grafana.", "fact"),
    # entities
    ("Hermes is our internal event bus.", "entity"),
    ("Atlas is a service that renders invoices as PDF.", "entity"),
    ("The {svc} repo is called {svc}-core.", "entity"),
    ("Pegasus is the codename of the mobile rewrite.", "entity"),
    ("Nimbus is a library we wrote for retries.", "entity"),
    ("Orion is the team that owns observability.", "entity"),
    ("Our CLI tool is named devctl.", "entity"),
    ("Quartz is a framework for our batch jobs.", "entity"),
    # relationships
    ("{person} is my manager.", "relationship"),
    ("{person} is the tech lead of the {team} team.", "relationship"),
    ("{person} reports to the CTO.", "relationship"),
    ("The {svc} service depends on the ledger API.", "relationship"),
    ("{person} owns the deployment pipeline.", "relationship"),
    ("{person} works with me on the {svc} migration.", "relationship"),
    ("{person} maintains the shared UI kit.", "relationship"),
    ("{person} is our main contact at the vendor.", "relationship"),
    # not worth remembering: questions
    ("What does this function return?", None),
    ("Can you explain the difference between a list and a tuple?", None),
    ("Why is {file} so slow?", None),
    ("How do I run only one test with pytest?", None),
    ("Is there a way to make {tool} ignore a line?", None),
    ("Which version of {lang} do we need?", None),
    ("Where is the config for the {svc} service?", None),
    ("Who wrote this module?", None),
    ("Should I use a dataclass here?", None),
    ("Do we have tests for the parser?", None),
    ("What's the best way to paginate this query?", None),
    ("Could you check whether {file} has a bug?", None),
    # requests
    ("Fix the failing test in {file}.", None),
    ("Add a README section about installation.", None),
    ("Rename the variable x to count everywhere.", None),
    ("Write a unit test for the parse_date helper.", None),
    ("Refactor {file} into smaller functions.", None),
    ("Run the linter and show me the output.", None),
    ("Create a migration that adds an index on email.", None),
    ("Explain this stack trace.", None),
    ("Make the {svc} endpoint return 404 for unknown ids.", None),
    ("Show me the git log for the last week.", None),
    ("Please update the changelog.", None),
    ("Let me see the diff first.", None),
    ("Implement retry with backoff in the {svc} client.", None),
    ("Delete the unused imports in {file}.", None),
    # passing states and bug reports
    ("The build is broken again.", None),
    ("Tests are failing on CI right now.", None),
    ("I'm getting a KeyError on line {num}.", None),
    ("The server keeps crashing when I upload a file.", None),
    ("My last commit broke the {svc} tests.", None),
    ("The page is stuck loading at the moment.", None),
    ("It doesn't work with the new config.", None),
    ("Docker is not working on my machine today.", None),
    ("The deploy failed with a timeout.", None),
    ("This function throws an error for empty input.", None),
    # chat
    ("ok thanks", None),
    ("Great, that worked!", None),
    ("hello", None),
    ("Sure, go ahead.", None),
    ("Yes please.", None),
    ("Nice, thank you so much.", None),
    ("Hmm, not quite.", None),
    ("Perfect.", None),
    # pasted output and code
    ("Traceback (most recent call last): File \"{file}\", line {num}, in main", None),
    ("def add(a, b): return a + b", None),
    ("$ npm test\n> jest\nPASS src/app.test.ts", None),
    ("ERROR: relation \"users\" does not exist", None),
    ("SELECT * FROM orders WHERE id = {num};", None),
    ("{file}:{num}:1: E501 line too long", None),
)

KNOWN_TURNS: tuple[tuple[str, str], ...] = (
    # already remembered: repeating it is not surprising
    ("As I said, I prefer {lang} for scripting.", "I prefer {lang} for scripting."),
    ("Like before: the {svc} service runs on {cloud}.", "The {svc} service runs on {cloud}."),
    ("Remember {person} is my manager.", "{person} is my manager."),
    ("Again, we use Terraform for all infrastructure.", "We use Terraform for all infrastructure."),
)


@attrs.frozen
class Turn:
    text: str
    kind: MemoryKind | None  # what it should yield; None: nothing
    known: tuple[str, ...] = ()


def _expand(templates: tuple[tuple[str, MemoryKind | None], ...], seed: int, times: int
            ) -> list[Turn]:
    rng = random.Random(seed)
    turns = []
    for _ in range(times):
        for template, kind in templates:
            values = {k: rng.choice(v) for k, v in VALUES.items()}
            turns.append(Turn(template.format(**values), kind))
    return turns


def labelled_turns(seed: int = 14) -> list[Turn]:
    rng = random.Random(seed + 1)
    known = []
    for _ in range(3):
        for template, memory in KNOWN_TURNS:
            values = {k: rng.choice(v) for k, v in VALUES.items()}
            known.append(Turn(template.format(**values), None, (memory.format(**values),)))
    return _expand(TEMPLATES, seed, 3) + known


# Written after the heuristic's patterns were tuned on the turns above, and never tuned on:
# its figures are the honest ones.
HELD_OUT: tuple[tuple[str, MemoryKind | None], ...] = (
    ("I'm a big fan of property-based tests.", "preference"),
    ("For config files I'd like TOML rather than YAML.", "preference"),
    ("Keep functions under fifty lines if you can, I find them easier to review.",
     "preference"),
    ("No abbreviations in variable names, please.", "preference"),
    ("I want error messages that say what to do next.", "preference"),
    ("Dark mode screenshots only in the docs.", "preference"),
    ("I prefer {lang} over Java for anything new.", "preference"),
    ("Don't add comments that repeat the code.", "preference"),
    ("Our team voted to adopt {tool} last sprint.", "decision"),
    ("We're moving the {svc} service off {db} next quarter.", "decision"),
    ("The architecture review approved event sourcing for orders.", "decision"),
    ("We picked {cloud} because of the credits.", "decision"),
    ("Decided: no more ORMs in new services.", "decision"),
    ("We've agreed that every endpoint gets an OpenAPI spec.", "decision"),
    ("Let's stick with {db} for now.", "decision"),
    ("We'll adopt semantic versioning for all libraries.", "decision"),
    ("The {svc} service talks to Stripe through a webhook.", "fact"),
    ("Our Kubernetes version is 1.29.", "fact"),
    ("Releases are tagged from the release branch.", "fact"),
    ("I'm based in Singapore, so UTC+8.", "fact"),
    ("The {svc} database holds about {num} million rows.", "fact"),
    ("We have {num} microservices in production.", "fact"),
    ("Secrets live in Vault.", "fact"),
    ("The mobile app is built with Flutter.", "fact"),
    ("Kraken is the name of our load-testing harness.", "entity"),
    ("Beacon is an internal dashboard for SLOs.", "entity"),
    ("Our design system is called Prism.", "entity"),
    ("Lighthouse is the service that sends push notifications.", "entity"),
    ("{person} is my mentor.", "relationship"),
    ("{person} and I pair on the {svc} work every Thursday.", "relationship"),
    ("{person} leads the {team} team now.", "relationship"),
    ("The {svc} service calls the {team} team's API for prices.", "relationship"),
    ("How do I squash the last three commits?", None),
    ("What's wrong with this regex?", None),
    ("Can we make this faster?", None),
    ("Is {tool} configured correctly?", None),
    ("Why does the {svc} test time out?", None),
    ("Any idea what causes this warning?", None),
    ("Generate a Dockerfile for this project.", None),
    ("Convert this class to a dataclass.", None),
    ("Move the helpers into a utils module.", None),
    ("Bump the version to 2.1.0.", None),
    ("Summarize the changes in this PR.", None),
    ("Undo the last change.", None),
    ("Open {file} and look at the imports.", None),
    ("The CI job timed out twice this morning.", None),
    ("I get a segfault when I run the benchmarks.", None),
    ("The {svc} endpoint returns 500 for me right now.", None),
    ("Memory usage spikes after a few minutes.", None),
    ("My tests pass locally but fail in the pipeline.", None),
    ("awesome", None),
    ("That's it for today, thanks!", None),
    ("Good morning!", None),
    ("lol yes", None),
    ("OK, let's continue.", None),
    ("warning: unused variable `x` at {file}:{num}", None),
    ("{{\"error\": \"not found\", \"status\": 404}}", None),
    ("npm ERR! code ERESOLVE", None),
    ("diff --git a/{file} b/{file}", None),
    ("I think the bug is in the date parsing.", None),
)


def held_out_turns(seed: int = 41) -> list[Turn]:
    return _expand(HELD_OUT, seed, 2)


# A second held-out set, written after the patterns were revised once more (the revision came
# after reading the first held-out set's misses, so that set is no longer blind); never tuned on.
HELD_OUT_2: tuple[tuple[str, MemoryKind | None], ...] = (
    ("I always squash my commits before merging.", "preference"),
    ("Short variable names drive me crazy.", "preference"),
    ("I find pytest fixtures hard to follow when they nest.", "preference"),
    ("Give me the shell command first and the explanation after.", "preference"),
    ("Snake case for JSON keys in our APIs.", "preference"),
    ("I'd like every new module to come with a test file.", "preference"),
    ("My preference is Markdown tables over bullet lists.", "preference"),
    ("We settled on {db} for analytics after the benchmark.", "decision"),
    ("The team picked Kafka for the event stream.", "decision"),
    ("We are dropping the Windows build.", "decision"),
    ("Starting next sprint we write ADRs for every new service.", "decision"),
    ("The CTO approved moving the {svc} service to {cloud}.", "decision"),
    ("Our build runs in about {num} minutes.", "fact"),
    ("The {svc} team has a weekly release train.", "fact"),
    ("The {svc} API is rate limited to {num} requests per second.", "fact"),
    ("All our services log to Loki.", "fact"),
    ("I code on a Linux desktop with two monitors.", "fact"),
    ("The repository uses pre-commit hooks.", "fact"),
    ("Our SLA promises 99.9% uptime.", "fact"),
    ("Sentinel is the service that rotates our certificates.", "entity"),
    ("Ripple is our feature-flag system.", "entity"),
    ("The internal wiki is called Compass.", "entity"),
    ("{person} is the product owner for {svc}.", "relationship"),
    ("{person} mentors the new hires on the {team} team.", "relationship"),
    ("{person} handles all our DNS changes.", "relationship"),
    ("Billing is owned by the {team} team.", "relationship"),
    ("What's the syntax for a match statement?", None),
    ("Where do we set the timeout?", None),
    ("Would a queue help here?", None),
    ("Please double-check the error handling.", None),
    ("Split this file in two.", None),
    ("Add logging to the {svc} handler.", None),
    ("Can you write the docs for this?", None),
    ("Replace the for loop with a comprehension.", None),
    ("The tests hang forever since this morning.", None),
    ("My PR is blocked by a flaky test.", None),
    ("The container exits with code 137.", None),
    ("Something is off with the timezone handling.", None),
    ("That fixed it.", None),
    ("Cool, next one.", None),
    ("Thanks, looks good to me.", None),
    ("  File \"{file}\", line {num}, in handler", None),
    ("KeyError: 'user_id'", None),
    ("make: *** [Makefile:{num}: test] Error 1", None),
    ("I guess it works now.", None),
    ("Maybe we should rename it later.", None),
)


def held_out_2_turns(seed: int = 7) -> list[Turn]:
    return _expand(HELD_OUT_2, seed, 2)

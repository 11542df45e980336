"""`make bench-stream`: the CPU of reading a chat model's streamed answer, the SDK's typed stream against Docent's.

The model is the load benchmark's (bench/chat_load.py): tests/fakes/openai_server.py in a process of its own,
streaming 50 tokens at 100 a second as OpenAI's server-sent events, with a usage event. Each round asks it for
ANSWERS answers at once, read either by the openai SDK's typed stream (`chat.completions.create(stream=True)`,
a pydantic object per event, its parameters checked against the SDK's types first: how Docent read answers
before, the baseline) or by Docent's ModelAnswer (the SDK's `post` sends the request as it is,
chat/generators/openai.py reads the events' JSON); the rounds alternate. CPU is
`time.process_time()` of this process (every thread) per answer; the median of the rounds, and its ratio to the
baseline's, in one run. Nothing else of an answer is counted: no socket to a visitor, no database.

The report is printed and put in docs/BENCHMARKS.md under its heading.
"""

import asyncio
import datetime
import gc
import logging
import os
import statistics
import time

from bench import ingest

HEADING = "## Reading the model's stream (issue 15, item 1)"
COMMAND = "make bench-stream"
ANSWERS = 200
ROUNDS = 10
BASELINE = "the SDK's typed stream (before)"
DOCENT = "ModelAnswer: the events' JSON (now)"


async def sdk_stream(client, model: str) -> str:
    """The answer as Docent read it before: every event a typed ChatCompletionChunk."""
    stream = await client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Revenue?"}],
                                                  stream=True, stream_options={"include_usage": True})
    pieces = []
    async with stream:
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                pieces.append(chunk.choices[0].delta.content)
    return "".join(pieces)


async def docent_stream(generator, prompt) -> str:
    from chat.generators.openai import ModelAnswer

    return "".join([piece async for piece in ModelAnswer(generator, prompt, temperature=0.0)])


async def rounds(base_url: str, api_key: str) -> dict[str, list[float]]:
    from chat.context import Prompt
    from chat.generators.openai import OpenAIGenerator

    generator = OpenAIGenerator(model="fake-model", api_key=api_key, base_url=base_url, timeout=30.0)
    prompt = Prompt(messages=[{"role": "user", "content": "Revenue?"}], passages=[], estimated_tokens=1)
    client = generator.client()  # one connection pool for both ways, as in a web process
    ways = {BASELINE: lambda: sdk_stream(client, generator.model), DOCENT: lambda: docent_stream(generator, prompt)}
    for way in ways.values():  # connections opened and code warmed before anything is timed
        await asyncio.gather(*(way() for _ in range(10)))
    cpu: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(ROUNDS):
        for name, way in ways.items():
            gc.collect()  # the garbage of the round before is not this round's to collect
            started = time.process_time()
            answers = await asyncio.gather(*(way() for _ in range(ANSWERS)))
            cpu[name].append((time.process_time() - started) * 1000 / ANSWERS)
            if len({len(answer.split()) for answer in answers}) != 1:
                raise SystemExit(f"{name}: answers of different lengths")
    return cpu


def render(cpu: dict[str, list[float]], when: str) -> str:
    from bench.chat_load import TOKENS, TOKENS_PER_SECOND

    base = statistics.median(cpu[BASELINE])
    lines = [
        HEADING, "",
        f"Measured {when} with `{COMMAND}` (bench/model_stream.py) on {ingest.machine()}, load average "
        f"{'/'.join(f'{load:.1f}' for load in os.getloadavg())} at the end. The fake model (its own process) streams "
        f"{TOKENS} tokens at {TOKENS_PER_SECOND} a second; {ANSWERS} answers at once per round, {ROUNDS} rounds "
        "alternating between the two ways; CPU of the reading process (`time.process_time()`) per answer.", "",
        "| reading the answer | CPU ms per answer, median of the rounds | rounds | × before |",
        "|---|---:|---|---:|",
    ]
    for name, values in cpu.items():
        median = statistics.median(values)
        lines.append(f"| {name} | {median:.2f} | {', '.join(f'{value:.2f}' for value in values)} "
                     f"| {median / base:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    logging.disable(logging.INFO)  # the HTTP clients log every request at INFO
    from bench.chat_load import MODEL_KEY, fake_model

    with fake_model() as (base_url, _):
        cpu = asyncio.run(rounds(base_url, MODEL_KEY))
    report = render(cpu, datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    print(report)
    ingest.write_section(ingest.REPORT_PATH, HEADING, report)


if __name__ == "__main__":
    main()

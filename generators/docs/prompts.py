"""The prompts of each stage, as LLMRequests. Bump PROMPTS_VERSION whenever a prompt's wording changes."""

from inference.llm import ChatMessage, GenerationParams, LLMRequest

PROMPTS_VERSION = "docs-prompts-3"

# The QA step sees the code, cut to this length: the data carries the facts, and long prompts are slow.
QA_CODE_CHARS = 1500

# Format skeletons: small models follow a shown format far better than a described one, and copy example
# values, so the skeletons hold placeholders only; data that keeps a placeholder is rejected (parsing).
CSV_EXAMPLE = "Name,Value\n<a name>,<a number>\n<a name>,<a number>"
JSON_EXAMPLE = '{"title": "<a title>", "items": [{"name": "<a name>", "value": <a number>}]}'
CSV_INSTRUCTIONS = (
    "Write the data as CSV: one header row, then 4 to 8 data rows, values separated by commas. "
    f"Reply with the CSV only, no explanation. Format example:\n{CSV_EXAMPLE}"
)
JSON_INSTRUCTIONS = (
    "Write the data as one short JSON object with concrete values (names, numbers, dates). "
    f"Reply with the JSON only, no explanation. Format example:\n{JSON_EXAMPLE}"
)


def _request(key: str, content: str, max_new_tokens: int, temperature: float, seed: int) -> LLMRequest:
    return LLMRequest(
        messages=(ChatMessage("user", content),),
        params=GenerationParams(max_new_tokens=max_new_tokens, temperature=temperature, top_p=0.95, seed=seed),
        key=key,
    )


def topic_request(key: str, persona: str, figure_type: str, max_new_tokens: int, seed: int) -> LLMRequest:
    content = (
        f"You are {persona[0].lower() + persona[1:]}. Give the title of a {figure_type} you would make. "
        "Reply with the title only, at most 10 words."
    )
    return _request(key, content, max_new_tokens, 0.6, seed)


def data_request(
    key: str, persona: str, figure_type: str, topic: str, data_format: str, max_new_tokens: int, seed: int
) -> LLMRequest:
    instructions = CSV_INSTRUCTIONS if data_format == "csv" else JSON_INSTRUCTIONS
    content = (
        f"You are {persona[0].lower() + persona[1:]}. You are making a {figure_type} about: {topic}.\n"
        f"Invent realistic data for it. {instructions}"
    )
    return _request(key, content, max_new_tokens, 0.5, seed)


def code_messages(
    persona: str, figure_type: str, topic: str, data: str, code_instructions: str
) -> tuple[ChatMessage, ...]:
    content = (
        f'Make a {figure_type} about "{topic}" for {persona[0].lower() + persona[1:]}.\n'
        f"Use exactly this data:\n{data}\n\n{code_instructions}\nReply with the code only."
    )
    return (ChatMessage("user", content),)


def code_request(
    key: str, messages: tuple[ChatMessage, ...], max_new_tokens: int, temperature: float, seed: int
) -> LLMRequest:
    return LLMRequest(
        messages=messages,
        params=GenerationParams(max_new_tokens=max_new_tokens, temperature=temperature, top_p=0.95, seed=seed),
        key=key,
    )


def repair_messages(messages: tuple[ChatMessage, ...], code: str, problem: str) -> tuple[ChatMessage, ...]:
    """The conversation so far, the failed code as the model's turn, and the error to fix."""
    fix = f"That did not work: {problem[:600]}\nFix it. Reply with the complete corrected code only."
    return (*messages, ChatMessage("assistant", code), ChatMessage("user", fix))


def qa_request(
    key: str, figure_type: str, topic: str, data: str, code: str, max_new_tokens: int, seed: int
) -> LLMRequest:
    content = (
        f'A {figure_type} about "{topic}" was drawn from this data:\n{data}\n\n'
        f"and this code:\n{code[:QA_CODE_CHARS]}\n\n"
        "Write questions a reader could answer by looking at the figure, each followed by its answer, in "
        "exactly this format:\nQ: question\nA: answer\n\n"
        "Write 5 questions whose answers are a short value copied from the data, 2 multiple-choice questions "
        "that list options (A), (B), (C), (D) with the correct option as the answer, 1 yes/no question, "
        "1 question asking to summarise the figure answered in one sentence, and 1 question the figure "
        'cannot answer, answered "unanswerable".'
    )
    return _request(key, content, max_new_tokens, 0.5, seed)

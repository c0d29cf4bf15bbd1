"""Passwords, session tokens, CSRF comparison and the login rate limit."""

from annotation.app.security import LoginLimiter, check_password, hash_password, new_token, same, token_hash


def test_passwords_are_argon2_hashes_that_verify_only_the_right_password() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$") and "correct" not in stored
    assert hash_password("correct horse battery") != stored  # salted
    assert check_password(stored, "correct horse battery")
    assert not check_password(stored, "correct horse batter")
    assert not check_password("not a hash", "correct horse battery")


def test_tokens_are_random_and_stored_only_as_hashes() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100 and all(len(t) >= 40 for t in tokens)
    token = next(iter(tokens))
    assert token_hash(token) == token_hash(token) and len(token_hash(token)) == 64 and token not in token_hash(token)


def test_csrf_comparison_refuses_empty_or_different_tokens() -> None:
    assert same("abc", "abc")
    assert not same("", "") and not same("abc", "") and not same("abc", "abd")


def test_the_login_limiter_blocks_a_user_name_after_repeated_failures() -> None:
    limiter = LoginLimiter(limit=3, window_s=3600)
    for _ in range(3):
        assert not limiter.blocked("ana")
        limiter.failed("ana")
    assert limiter.blocked("ana") and not limiter.blocked("bob")
    limiter.succeeded("ana")
    assert not limiter.blocked("ana")
    expired = LoginLimiter(limit=1, window_s=0)  # failures older than the window no longer count
    expired.failed("ana")
    assert not expired.blocked("ana")

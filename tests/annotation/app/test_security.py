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


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_login_limiter_counts_per_user_and_address_and_per_address() -> None:
    clock = Clock()
    limiter = LoginLimiter(per_user_client=3, per_client=5, window_s=60, clock=clock)
    for _ in range(3):
        assert limiter.wait_s("ana", "10.0.0.1") == 0
        limiter.failed("ana", "10.0.0.1")
        clock.now += 1
    assert limiter.wait_s("ana", "10.0.0.1") == 57  # now t=1003; the first failure (t=1000) leaves the window at t=1060
    assert limiter.wait_s("ana", "10.0.0.2") == 0  # the same user from elsewhere is not locked out
    assert limiter.wait_s("bob", "10.0.0.1") == 0
    limiter.failed("bob", "10.0.0.1")
    limiter.failed("carl", "10.0.0.1")  # 5 failures from 10.0.0.1 over three user names: that address waits
    assert limiter.wait_s("dee", "10.0.0.1") > 0 and limiter.wait_s("dee", "10.0.0.2") == 0
    limiter.succeeded("eve", "10.0.0.1")  # an attacker's own good login does not reset the address's count
    assert limiter.wait_s("dee", "10.0.0.1") > 0
    clock.now += 60
    assert limiter.wait_s("ana", "10.0.0.1") == 0 and limiter.wait_s("dee", "10.0.0.1") == 0  # all expired
    limiter.failed("ana", "10.0.0.1")
    limiter.succeeded("ana", "10.0.0.1")
    assert ("ana", "10.0.0.1") not in limiter.failures


def test_made_up_user_names_do_not_grow_the_limiter_forever() -> None:
    clock = Clock()
    limiter = LoginLimiter(per_user_client=3, per_client=10**9, window_s=60, clock=clock)
    for i in range(LoginLimiter.MAX_KEYS):
        limiter.failed(f"user-{i}", "10.0.0.1")
    clock.now += 61
    limiter.failed("one-more", "10.0.0.1")
    assert len(limiter.failures) == 2  # ("one-more", address) and ("", address)

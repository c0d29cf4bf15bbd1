"""python -m annotation.app {serve,create-user,export,migrate}: the annotation app's command line."""

import argparse
import getpass
import sys

from inference.llm import add_llm_arguments, llm_config_from_args

DEFAULT_DATA = "./annotation-data"


def window(text: str) -> tuple[float, float]:
    low, _, high = text.partition(",")
    try:
        return float(low), float(high)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN,MAX seconds, got {text!r}") from None


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m annotation.app",
        description="The PixMo annotation app: Cap recordings, Points, AMA and Count verification in a browser.",
    )
    commands = main.add_subparsers(dest="command", required=True)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--data-dir",
            default=DEFAULT_DATA,
            help="Images, audio, exports and the SQLite database (default: %(default)s).",
        )
        sub.add_argument(
            "--db",
            default="",
            help="Database URL (default: sqlite:///DATA_DIR/annotation.db; e.g. postgresql+psycopg://user:pw@host/db).",
        )

    serve = commands.add_parser("serve", help="Run the app (first visit: /setup creates the admin).")
    common(serve)
    serve.add_argument(
        "--host", default="127.0.0.1", help="Address to listen on (default: %(default)s; 0.0.0.0 for a LAN)."
    )
    serve.add_argument("--port", type=int, default=8000, help="Port (default: %(default)s).")
    serve.add_argument(
        "--recording-window",
        type=window,
        default=(60.0, 90.0),
        help="Cap recording length MIN,MAX in seconds (default: 60,90).",
    )
    serve.add_argument(
        "--secure-cookies", action="store_true", help="Send cookies over HTTPS only (behind a TLS proxy)."
    )
    add_llm_arguments(serve)

    user = commands.add_parser(
        "create-user", help="Create an account (the password is asked for, or read from a file)."
    )
    common(user)
    user.add_argument("username")
    user.add_argument("--role", choices=("admin", "annotator"), default="annotator")
    user.add_argument("--password-file", help="Read the password from this file's first line instead of asking.")

    export = commands.add_parser("export", help="Write everything annotated as files the pipelines read.")
    common(export)
    export.add_argument("--out", required=True, help="Export folder (replaced whole if it exists).")

    migrate = commands.add_parser("migrate", help="Create or upgrade the database schema (serve does this too).")
    common(migrate)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from annotation.app.app import create_app
    from annotation.app.config import AppConfig

    llm = llm_config_from_args(args) if args.command == "serve" else None
    options = {"llm": llm} if llm else {}
    if args.command == "serve":
        options |= {"recording_window_s": args.recording_window, "secure_cookies": args.secure_cookies}
    config = AppConfig(data_dir=args.data_dir, db_url=args.db, **options)
    problems = config.validate()
    if problems:
        print("error: " + "; ".join(problems), file=sys.stderr)
        return 2
    app = create_app(config)
    if args.command == "serve":
        import uvicorn

        print(f"annotation app on http://{args.host}:{args.port}/ (data: {args.data_dir}); first visit: /setup")
        uvicorn.run(app, host=args.host, port=args.port, log_level="info")
        return 0
    state = app.state.app_state
    if args.command == "create-user":
        from annotation.app.api_auth import create_user
        from annotation.app.state import ApiError

        if args.password_file:
            with open(args.password_file, encoding="utf-8") as handle:
                password = handle.readline().rstrip("\n")
        else:
            password = getpass.getpass(f"password for {args.username}: ")
        try:
            create_user(state, args.username, password, args.role)
        except ApiError as error:
            print(f"error: {error.detail['error']}", file=sys.stderr)
            return 2
        print(f"created {args.role} {args.username}")
    elif args.command == "export":
        import os

        from annotation.app.export import export_all

        result = export_all(state, os.path.abspath(args.out))
        print(f"exported to {result['export_dir']}: " + ", ".join(f"{k} {v}" for k, v in result["counts"].items()))
    else:
        print("database schema is up to date")
    state.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Make speech (text-to-speech) or audio (text-to-audio) with a fal model via async-invoke; save it as a file."""

from __future__ import annotations

import os

from gradient_inference.cli import base as cli

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

SPEECH_MODEL = "fal-ai/elevenlabs/tts/multilingual-v2"
AUDIO_MODEL = "fal-ai/stable-audio-25/text-to-audio"
MAX_AUDIO_BYTES = 100 * 1024 * 1024  # per file; checked while reading
# Accepted download types: audio/*, and the generic type some file hosts send; the bytes decide.
AUDIO_MEDIA = ("audio", "application/octet-stream")


def build_parser() -> cli.ArgumentParser:
    parser = cli.new_parser(
        "gradient-audio", "Make speech from text, or audio from a prompt, with a fal model; save it as a file."
    )
    parser.add_argument("--text", help="text to speak (text-to-speech); '-' reads stdin, as does piped stdin")
    parser.add_argument("--text-file", metavar="PATH", help="read the text to speak from a UTF-8 file")
    parser.add_argument("--prompt", help="describe the sound or music to make (text-to-audio); '-' reads stdin")
    parser.add_argument(
        "--seconds", metavar="N", type=cli.positive_int, help="length of the audio, with --prompt (input.seconds_total)"
    )
    parser.add_argument("--voice", type=cli.non_empty, help="voice name or id for text-to-speech (model-dependent)")
    parser.add_argument(
        "--model",
        type=cli.non_empty,
        help=f"model id (default {SPEECH_MODEL} for --text, {AUDIO_MODEL} for --prompt)",
    )
    parser.add_argument(
        "--output",
        "-o",
        metavar="PATH",
        help="file to write. Default: a name made from the text and the UTC time, in the current folder, "
        "with the extension the audio's content calls for",
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    cli.add_job_flags(parser)
    return parser


def read_text(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[str, str]:
    """('speech' | 'audio', the text) from --text, --text-file, --prompt or piped stdin."""
    if args.prompt is not None and (args.text is not None or args.text_file is not None):
        parser.error("give --text/--text-file (speech) or --prompt (audio), not both")
    mode = "audio" if args.prompt is not None else "speech"
    from gradient_inference.files.input import read_text

    if mode == "audio":
        text = read_text(args.prompt, None, ("--prompt", "--text-file"), "text")
    else:
        text = read_text(args.text, args.text_file, ("--text", "--text-file"), "text")
    if mode == "speech" and args.seconds is not None:
        parser.error("--seconds goes with --prompt (text-to-audio)")
    if mode == "audio" and args.voice is not None:
        parser.error("--voice goes with --text (text-to-speech)")
    return mode, text.strip()


def fetch_audio(job: dict) -> tuple[bytes, str]:
    """(the job's first audio file, its format), checked to be audio."""
    from gradient_inference.media import async_invoke as jobs
    from gradient_inference.media import formats as media
    from gradient_inference.network.download import download_file

    found = jobs.output_files(job, jobs.AUDIO_KEYS)
    if len(found) > 1:
        cli.note(f"the job returned {len(found)} audio files; saving the first")
    blob, _ = download_file(found[0]["url"], "audio", job["_timeout"], MAX_AUDIO_BYTES, AUDIO_MEDIA)
    fmt = media.audio_format(blob)
    if fmt is None:
        raise cli.CliError(
            "the downloaded file is not audio (not MP3, WAV, OGG, FLAC, M4A or WebM); nothing written",
            kind="not_audio",
            request_id=job["request_id"],
        )
    return blob, fmt


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = cli.parse(parser, argv)
    mode, text = read_text(parser, args)
    model = args.model or (AUDIO_MODEL if mode == "audio" else SPEECH_MODEL)
    from gradient_inference.files import output as files
    from gradient_inference.media import async_invoke as jobs
    from gradient_inference.media import formats as media

    if mode == "audio":
        own, flags = {"prompt": text}, {"prompt": "--prompt"}
        if args.seconds is not None:
            own["seconds_total"], flags["seconds_total"] = args.seconds, "--seconds"
    else:
        own, flags = {"text": text}, {"text": "--text"}
        if args.voice is not None:
            own["voice"], flags["voice"] = args.voice, "--voice"
    try:
        fields = jobs.model_input(own, args.input_json, flags)
    except ValueError as exc:
        parser.error(str(exc))
    if args.output is not None:
        files.check_output_arg(args.output)
        if not args.dry_run:
            files.check_targets([args.output], args.force, before_sending=True)

    from gradient_inference.pipeline.call import Call

    with Call(args.settings) as call:  # the job's history row, with its cost, written when the block ends
        job = jobs.run_job(call, model, fields, args.max_wait)
        if job is None:  # --dry-run
            return 0
        job["_timeout"] = args.timeout
        blob, fmt = fetch_audio(job)
        from gradient_inference.history import record
        from gradient_inference.prices import table as prices

        model_id = job.get("model_id") if isinstance(job.get("model_id"), str) else model
        units = {"audio": 1, "second": fields.get("seconds_total"), "thousand_characters": len(text) / 1000}
        cost, why = prices.media_cost(model_id, units, None, args.settings.cache_dir)
        record.update(job.pop("_submit", None), reply={"model": model_id}, cost=cost)
    content_type, extension = media.AUDIO_FORMATS[fmt]
    if args.output is not None:
        path = args.output
        suffix = os.path.splitext(path)[1]
        if suffix and suffix.lower() not in media.AUDIO_SUFFIXES[fmt]:
            cli.note(f"{path} holds {fmt.upper()} data despite its {suffix} extension")
    else:
        [path] = files.default_paths(text, [extension], False, args.force, fallback=mode)
    files.check_targets([path], args.force)
    files.write_all([path], [blob], args.force)
    if args.json:
        cli.print_json(
            {
                "model": model_id,
                "request_id": job["request_id"],
                "path": path,
                "bytes": len(blob),
                "content_type": content_type,
                "cost": cost,
            }
        )
    else:
        print(path)
        cli.note(f"cost ~${cost['usd']:.6f} (prices from {cost['source']})" if cost else f"cost unknown: {why}")
    return 0


def run() -> None:
    cli.run(main)


if __name__ == "__main__":
    run()

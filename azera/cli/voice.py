"""``python -m azera say``: text read aloud in a persona's (or a named) voice, written to a WAV file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def cmd_say(args: argparse.Namespace) -> int:
    """Synthesize the text and write it; a clear line when it cannot."""
    from azera.db.engine import session_scope
    from azera.errors import ServiceError
    from azera.services.startup import prepare
    from azera.voice import speakable, speech
    from azera.voice.engines import VoiceChoice
    from azera.voice.messages import persona_voice

    try:
        text = speakable.checked_text(args.text)
        if args.voice:
            choice = VoiceChoice.parse(args.voice)
        else:
            prepare()
            with session_scope() as session:
                choice = persona_voice(session, args.persona)
        audio = speech.speak(choice, text)
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.write_bytes(audio)
    print(f"{out}: {len(audio):,} bytes, voice {choice.spec}")
    return 0

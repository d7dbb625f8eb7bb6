"""Write ``recall_longterm.json``: months of everyday conversation with a few facts worth remembering.

``python tests/data/make_recall_longterm.py`` regenerates the file (seeded, so the output is the same).

What it models, and why: a companion hears about the same small world every week, the same friends,
the same dog, the same hobby, so most of what a user says is topically close to the facts they later
ask about. Each conversation is one user over nine months: 40 sessions of 24 to 36 turns, about a
quarter of the user's lines name one of a dozen people. Each planted fact gets questions in two forms
written before any retrieval was run: one that names the person or thing ("When is Hana's birthday?")
and one that paraphrases without the fact's words ("Which colleague is quitting the company?").
Some facts are told in two sessions (a plan, then what happened); their questions need both turns.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

SEED = 20261123
SESSIONS = 40
OUT = Path(__file__).with_name("recall_longterm.json")

PROFILES = [
    {
        "id": "noor",
        "city": "Rotterdam",
        "start": "2026-01-05T19:00:00",
        "people": {
            "friend": ["Hana", "Joost", "Mira", "Sven"],
            "colleague": ["Pieter", "Amal", "Greta", "Bram"],
            "family": {"sister": "Yara", "brother": "Karim", "mother": "Salma"},
        },
        "pet": ("cat", "Pepper"),
        "hobby": "climbing",
        "places": ["the Kralingse Plas", "Witte de Withstraat", "the Markthal", "Kop van Zuid"],
    },
    {
        "id": "kasper",
        "city": "Leeds",
        "start": "2026-02-02T20:00:00",
        "people": {
            "friend": ["Olly", "Priti", "Declan", "Fern"],
            "colleague": ["Marcus", "Ines", "Tobias", "Wendy"],
            "family": {"sister": "Agnes", "brother": "Rufus", "mother": "Edith"},
        },
        "pet": ("dog", "Nutmeg"),
        "hobby": "running",
        "places": ["Roundhay Park", "Kirkgate Market", "the canal path", "Hyde Park Corner"],
    },
    {
        "id": "lucia",
        "city": "Valencia",
        "start": "2026-01-19T21:00:00",
        "people": {
            "friend": ["Inés", "Marco", "Tereza", "Dani"],
            "colleague": ["Jordi", "Helena", "Raúl", "Sofía"],
            "family": {"sister": "Carmen", "brother": "Álvaro", "mother": "Pilar"},
        },
        "pet": ("dog", "Mango"),
        "hobby": "painting",
        "places": ["the Turia gardens", "Ruzafa", "the Malvarrosa beach", "the Mercado Central"],
    },
    {
        "id": "jun",
        "city": "Osaka",
        "start": "2026-03-02T18:30:00",
        "people": {
            "friend": ["Kenta", "Aiko", "Ravi", "Lotte"],
            "colleague": ["Mori", "Chen", "Sato", "Nadia"],
            "family": {"sister": "Emi", "brother": "Daichi", "mother": "Keiko"},
        },
        "pet": ("cat", "Mochi"),
        "hobby": "cycling",
        "places": ["Namba", "the Yodo river", "Nakanoshima park", "Tenma"],
    },
]

HOBBY_CHATTER = {
    "climbing": [
        "Bouldered for two hours tonight, my forearms are done.",
        "Finally topped the overhang problem I've been stuck on.",
        "The gym reset the routes, everything feels new again.",
        "Skin on my fingertips is wrecked after today's session.",
        "Tried some lead climbing, the falls still scare me a bit.",
    ],
    "running": [
        "Easy eight kilometres this morning, legs felt heavy.",
        "Intervals on the track tonight, six by eight hundred.",
        "Long run in the rain, soaked but happy.",
        "My watch died halfway through the run, so annoying.",
        "Skipped my run today, just didn't have the energy.",
    ],
    "painting": [
        "Spent the evening on a watercolour of the harbour.",
        "Mixed a green I actually like for once.",
        "Ruined a canvas by overworking the sky again.",
        "Sketched people at the café for an hour.",
        "Bought new brushes, the cheap ones were shedding everywhere.",
    ],
    "cycling": [
        "Rode sixty kilometres along the coast today.",
        "Headwind the whole way home, brutal.",
        "Cleaned and oiled the chain, the bike sounds new.",
        "Group ride this morning, I got dropped on the hill.",
        "Flat tyre on the way to work, fixed it in ten minutes.",
    ],
}

CHATTER = [
    "Had {food} for dinner, nothing special.",
    "Cooked {food} tonight and it actually worked.",
    "Slept badly again, I keep waking up at four.",
    "The weather was {weather} all day.",
    "Long day at work, lots of meetings.",
    "I spent the evening tidying the flat.",
    "Watched a couple of episodes of a crime series.",
    "Went for a walk around {place} after work.",
    "{pet} slept on my laptop bag all afternoon.",
    "{pet} knocked a glass off the table this morning.",
    "Took {pet} to {place}, it was busy.",
    "Texted with {friend} for a while tonight.",
    "{friend} and I grabbed coffee near {place}.",
    "Haven't heard from {friend} in a week, hope all is well.",
    "{friend} sent me a silly video, I laughed for ages.",
    "Lunch with {colleague}, we mostly complained about the printer.",
    "{colleague} and I had a long meeting about the roadmap.",
    "{colleague} brought cake to the office today.",
    "{colleague} was off sick, so I covered some of their work.",
    "Called my {relation} {relative}, everything is fine at home.",
    "My {relation} {relative} sent photos from the weekend.",
    "Birthday drinks for someone at work, stayed too late.",
    "I started a new book but I'm not hooked yet.",
    "Groceries, laundry, emails. Exciting Sunday.",
    "Feeling a bit low today, not sure why.",
    "Good mood today, the sun helped.",
]

REPLIES = [
    "That sounds like a full day.",
    "How did that make you feel?",
    "I'm glad you told me.",
    "Tell me more about that.",
    "That makes sense.",
    "Sounds nice, honestly.",
    "Oof, that's a lot.",
    "I hope tomorrow is gentler.",
    "Ha, I can picture it.",
    "Good for you.",
    "And how are you doing with all that?",
    "That's worth remembering.",
]

FOODS = ["pasta", "ramen", "a stir fry", "soup", "tacos", "leftover curry", "a salad", "pizza", "dumplings"]
WEATHER = ["grey and drizzly", "bright and cold", "stormy", "muggy", "lovely", "windy"]
MONTHS = ["March", "April", "May", "June", "July", "August", "September", "October"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def _facts(profile: dict, rng: random.Random) -> list[dict]:
    """The facts worth remembering, each with its questions (named form, paraphrase form)."""
    friends = list(profile["people"]["friend"])
    colleagues = list(profile["people"]["colleague"])
    family = profile["people"]["family"]
    pet_kind, pet = profile["pet"]
    rng.shuffle(friends)
    rng.shuffle(colleagues)
    f1, f2, f3, f4 = friends
    c1, c2, c3, c4 = colleagues
    birthday_day = rng.randint(3, 27)
    rent = rng.choice([1150, 1240, 1380, 960])
    leaving_month = rng.choice(MONTHS)
    day = rng.choice(DAYS)
    return [
        {
            "text": f"{f1}'s birthday is on the {birthday_day}th of {leaving_month}, I need to remember that.",
            "questions": [f"When is {f1}'s birthday?", None],
        },
        {
            "text": f"{c1} handed in their notice, they're leaving for a competitor at the end of the month.",
            "questions": [f"Why is {c1} leaving?", "Which colleague is quitting the company?"],
        },
        {
            "text": f"{f2} got engaged last weekend, the proposal was on a ferry.",
            "questions": [f"What happened with {f2} recently?", "Which of my friends is getting married?"],
        },
        {
            "text": f"The vet says {pet} has a thyroid problem and needs pills twice a day.",
            "questions": [f"What did the vet say about {pet}?", f"Is my {pet_kind} on any medication?"],
        },
        {
            "text": f"My rent is going up to {rent} euros from next month.",
            "questions": ["How much will my rent be?", "Is my housing getting more expensive?"],
        },
        {
            "text": f"My sister {family['sister']} is pregnant, the baby is due in {MONTHS[-1]}.",
            "questions": [f"What news did {family['sister']} have?", "Is anyone in my family expecting a child?"],
        },
        {
            "text": f"{c2} is my new team lead since the reorganisation.",
            "questions": [f"What is {c2}'s role now?", "Who is my boss these days?"],
        },
        {
            "text": f"{f3} lent me a novel called The Salt Orchard and I can't put it down.",
            "questions": [f"What did {f3} lend me?", "Which book am I enjoying at the moment?"],
        },
        {
            "text": f"I've signed up for a pottery course on {day} evenings.",
            "questions": ["When is my pottery course?", "Which evening do I have my ceramics class?"],
        },
        {
            "text": f"{c3} and I are presenting the quarterly numbers to the board together.",
            "questions": [f"What am I doing with {c3}?", "Who am I giving the board presentation with?"],
        },
        {
            "text": f"My brother {family['brother']} crashed his car, he's fine but the car is a write-off.",
            "questions": [f"What happened to {family['brother']}?", "Was anyone in my family in an accident?"],
        },
        {
            "text": f"{f4} is moving to Montréal for a research job.",
            "questions": [f"Where is {f4} moving?", "Which friend is emigrating to Canada?"],
        },
        {
            "text": "I'm allergic to penicillin, found that out the hard way this week.",
            "questions": ["Which antibiotic am I allergic to?", "Do I have any drug allergies?"],
        },
        {
            "text": f"{c4} recommended a standing desk, so I ordered one for my home office.",
            "questions": [f"What did {c4} recommend?", "What did I buy for working from home?"],
        },
        {
            "text": f"My mother {family['mother']} is having hip surgery.",
            "then": f"{family['mother']}'s hip surgery went well, she's already walking with a frame.",
            "questions": [f"How did {family['mother']}'s operation go?", "Is my mum recovering from an operation?"],
        },
        {
            "text": f"{f1} has a job interview at the city library next week.",
            "then": f"{f1} got the library job! We're celebrating on Saturday.",
            "questions": [f"Did {f1} get the library job?", "Which friend landed a new position?"],
        },
    ]


def _chatter(profile: dict, rng: random.Random) -> str:
    pet = profile["pet"][1]
    relation, relative = rng.choice(list(profile["people"]["family"].items()))
    line = rng.choice(CHATTER + HOBBY_CHATTER[profile["hobby"]] * 2)
    return line.format(
        food=rng.choice(FOODS),
        weather=rng.choice(WEATHER),
        place=rng.choice(profile["places"]),
        pet=pet,
        friend=rng.choice(profile["people"]["friend"]),
        colleague=rng.choice(profile["people"]["colleague"]),
        relation=relation,
        relative=relative,
    )


def _conversation(profile: dict, rng: random.Random) -> tuple[dict, list[dict]]:
    facts = _facts(profile, rng)
    # Where each fact is told: a session chosen at random, the follow-up 3 to 8 sessions later.
    told: dict[int, list[tuple[int, str]]] = {}
    for number, fact in enumerate(facts):
        first = rng.randrange(2, SESSIONS - 10)
        told.setdefault(first, []).append((number, fact["text"]))
        if "then" in fact:
            told.setdefault(first + rng.randint(3, 8), []).append((number, fact["then"]))
    evidence: dict[int, list[str]] = {number: [] for number in range(len(facts))}
    sessions = []
    start = datetime.fromisoformat(profile["start"]).replace(tzinfo=UTC)
    for s in range(SESSIONS):
        user_lines = [(None, _chatter(profile, rng)) for _ in range(rng.randint(12, 16))]
        for number, text in told.get(s, []):
            user_lines.insert(rng.randrange(len(user_lines) + 1), (number, text))
        turns = []
        for number, text in user_lines:
            turn_id = f"{profile['id']}-s{s + 1}-t{len(turns) + 1}"
            turns.append({"id": turn_id, "speaker": "user", "text": text})
            if number is not None:
                evidence[number].append(turn_id)
            reply_id = f"{profile['id']}-s{s + 1}-t{len(turns) + 1}"
            turns.append({"id": reply_id, "speaker": "assistant", "text": rng.choice(REPLIES)})
        when = start + timedelta(days=7 * s + rng.randint(0, 3), hours=rng.randint(-2, 2))
        time = when.isoformat().replace("+00:00", "Z")
        sessions.append({"id": f"{profile['id']}-s{s + 1}", "time": time, "turns": turns})
    questions = []
    for number, fact in enumerate(facts):
        for form, question in zip(("named", "paraphrase"), fact["questions"], strict=True):
            if question:
                category = ("two sessions " if "then" in fact else "") + form
                asked = {"conversation": profile["id"], "question": question, "evidence": evidence[number]}
                questions.append({**asked, "category": category})
    return {"id": profile["id"], "sessions": sessions}, questions


def build() -> dict:
    rng = random.Random(SEED)
    conversations, questions = [], []
    for profile in PROFILES:
        conversation, asked = _conversation(profile, rng)
        conversations.append(conversation)
        questions += asked
    return {"conversations": conversations, "questions": questions}


if __name__ == "__main__":
    OUT.write_text(json.dumps(build(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")

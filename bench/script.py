"""The scripted meeting: twelve people, sixty shares, hands, me-too, a pause.

The same script is played through Circle and through an IRC server, so the
bytes a pure listener receives can be compared like for like. It is a list of
``Step``s, each one person doing one thing; who holds the stick afterwards
follows Circle's rules (``auto_pass``: a yield hands the stick to the first
raised hand), which the IRC side mirrors with voice.

People: Fran facilitates; ten members share; Lee only listens, start to end.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

FACILITATOR = "Fran"
LISTENER = "Lee"
MEMBERS = ("Ana", "Ben", "Cleo", "Dev", "Eli", "Gus", "Hana", "Ivo", "Jun", "Kit")
PEOPLE = (FACILITATOR, *MEMBERS, LISTENER)

PAUSE_MESSAGE = "Let's take a breath together."

SHARES = (
    "Hi everyone, welcome back. Let's start with a moment of quiet and then open the circle.",
    "As always: what is said here stays here, and it's fine to pass when the stick comes to you.",
    "This week was harder than I expected, mostly because of work and not sleeping well.",
    "I keep thinking about what my sister said on Sunday, and it still stings a bit.",
    "Thank you all for listening last time; it helped more than you know.",
    "I slept badly again, but I went for a walk each morning anyway.",
    "Honestly I am not sure what I want to say, just that I am glad to be here tonight.",
    "My therapist suggested writing things down, so I started a small notebook.",
    "The anniversary is coming up and I notice I get quiet around this time of year.",
    "I finally called my friend back, and we talked for almost two hours.",
    "Some days this group is the only hour where I do not have to pretend I'm fine.",
    "I said no to an extra shift, which felt scary and also really good.",
    "Grief comes in waves; today the water is calm, and I am grateful for that.",
    "I want to pass the stick soon, but first: I am proud of this circle.",
    "My mum moved into the care home on Friday. I helped her unpack and then cried in the car.",
    "I've been angry a lot, and I'm starting to see it's mostly fear wearing a costume.",
    "Work gave me a new manager who actually asks how I am. I didn't know what to answer.",
    "I relapsed on Tuesday. I'm telling you because hiding it is what made it worse last time.",
    "It's been ninety days today. I didn't think I'd say that out loud to anyone.",
    "My son asked me why I go to these meetings, and I told him the truth for once.",
    "I'm tired of being the strong one in my family. I want someone else to hold the map.",
    "I noticed I was holding my breath all week. Breathing out now.",
    "The new medication makes me foggy in the mornings, but the nights are less scary.",
    "I went to the garden centre and bought a plant I can't kill. Small wins.",
    "I don't have much this week. I'm mostly here to listen, and that feels okay.",
    "What Dev said last week stayed with me, about being kind to the person you were.",
    "I had a panic attack on the bus and a stranger just sat with me until it passed.",
    "My partner and I had the conversation we've been avoiding. It went better than I feared.",
    "I'm scared about the court date. I keep rehearsing what I'll say and it never sounds right.",
    "Christmas is going to be strange without Dad. We've decided to do it differently this year.",
    "I cleaned the kitchen for the first time in weeks. It sounds silly but it mattered.",
    "Thank you for the check-in message, Fran. It made a difference on Thursday.",
    "I've started saying 'I'm not okay' when people ask, and the world hasn't ended.",
    "I keep comparing my progress to other people's, and it never helps.",
    "Some nights I still reach for the phone to call her, and then I remember.",
    "I got the job. I'm excited and terrified, and I wanted you to be the first to know.",
    "My body is healing faster than my head is. The doctor says that's normal.",
    "I think I've been lonely for a long time and only noticed when I stopped being busy.",
    "I apologised to my brother. He didn't say much, but he didn't hang up either.",
    "I need to practise asking for help before things get bad, not after.",
    "This group reminds me that feeling this way doesn't make me broken.",
    "I snapped at my daughter and then went back and said sorry. That's new for me.",
    "I'm learning that rest isn't something I have to earn.",
    "The counsellor's waiting list is six months. I'm trying not to take that personally.",
    "I went back to choir. I cried through the first song and sang the second.",
    "Money is tight and it's eating at me. I'm going to the advice centre on Monday.",
    "I didn't drink at the wedding. I left early and I'm okay with that.",
    "I'm still here. Some weeks that's the whole share.",
    "I've been sleeping with the light on again, and I'm trying not to judge myself for it.",
    "My friend's diagnosis brought everything back, but I'm glad I can be there for her.",
    "I realised I've been waiting for permission to grieve. I'm giving it to myself.",
    "I told my boss about the panic attacks. She was more understanding than I expected.",
    "Walking the dog at dawn is the one part of the day that feels like mine.",
    "I'm grateful for this circle. You've seen me at my worst and you still say me too.",
    "I keep a list of things that helped, so that on bad days I don't have to think.",
    "My sister and I are talking again. Slowly, carefully, but talking.",
    "I'd like to pass for now, but thank you all for holding the space.",
    "I'm noticing I can sit with sad feelings a little longer before running from them.",
    "Let's take a minute for anyone who wants to add something before we close.",
    "Thank you all for sharing so honestly tonight. Take care of yourselves this week.",
)
"""Sixty shares, in order: about 85 characters each, written the way people talk."""


@dataclass(frozen=True)
class Step:
    """One person does one thing."""

    who: str
    action: str
    """``take`` (the stick), ``share``, ``yield``, ``raise`` (a hand), ``metoo``,
    ``pause``, ``resume``, ``signal``, ``give`` (the stick to ``target``),
    ``lower`` (one's own hand)."""
    text: str = ""
    target: str = ""


def meeting(seed: int = 9) -> list[Step]:
    """The script: Fran opens, members raise hands and share, listeners say
    me too, Fran pauses once and gives the stick once, someone signals Fran;
    Fran closes. Deterministic for a given seed."""
    rng = random.Random(seed)
    texts = list(SHARES)
    steps: list[Step] = [
        Step(FACILITATOR, "take"),
        Step(FACILITATOR, "share", texts.pop(0)),
        Step(FACILITATOR, "share", texts.pop(0)),
    ]
    closing = [texts.pop(), texts.pop()][::-1]
    queue: list[str] = []
    holder = FACILITATOR
    spoken: set[str] = set()
    paused = given = signalled = False

    def raise_hands(count: int) -> None:
        waiting = [m for m in MEMBERS if m not in queue and m != holder]
        for member in rng.sample(waiting, min(count, len(waiting))):
            queue.append(member)
            steps.append(Step(member, "raise"))

    raise_hands(3)
    steps.append(Step(holder, "yield"))
    holder = queue.pop(0)
    while texts:
        # A turn: one or two shares, me-too from a few listeners, hands meanwhile.
        said: set[str] = set()  # me too is once per member per turn
        for _ in range(1 if rng.random() < 0.7 or len(texts) < 2 else 2):
            steps.append(Step(holder, "share", texts.pop(0)))
            if rng.random() < 0.6:
                others = [m for m in MEMBERS if m != holder and m not in said]
                for member in rng.sample(others, rng.randint(1, 2)):
                    said.add(member)
                    steps.append(Step(member, "metoo"))
            if not texts:
                break
        spoken.add(holder)
        if not paused and len(texts) < 25:
            paused = True
            steps += [Step(FACILITATOR, "pause", PAUSE_MESSAGE), Step(FACILITATOR, "resume")]
        if not signalled and len(texts) < 35:
            signalled = True
            steps.append(Step(rng.choice([m for m in MEMBERS if m != holder]), "signal"))
        if len(queue) < 2:
            raise_hands(rng.randint(1, 2))
        if not given and len(texts) < 15:
            # Fran hands the stick to someone who has not spoken yet.
            given = True
            quiet = [m for m in MEMBERS if m not in spoken and m not in queue and m != holder]
            target = quiet[0] if quiet else next(m for m in MEMBERS if m != holder)
            steps.append(Step(FACILITATOR, "give", target=target))
            holder = target
            continue
        steps.append(Step(holder, "yield"))
        holder = queue.pop(0) if queue else ""
        if not holder:
            raise_hands(1)
            holder = queue.pop(0)
    for member in queue:  # hands still up at closing time come down first
        steps.append(Step(member, "lower"))
    if holder:
        steps.append(Step(holder, "yield"))
    steps.append(Step(FACILITATOR, "take"))
    steps += [Step(FACILITATOR, "share", text) for text in closing]
    steps.append(Step(FACILITATOR, "yield"))
    return steps

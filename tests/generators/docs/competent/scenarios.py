"""Topics and data, one family per kind of figure; every figure type of every renderer maps to a family."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    columns: tuple[str, ...] = ()
    rows: tuple[tuple, ...] = ()
    document: dict = field(default_factory=dict)  # JSON data (posters, forms, newsletters)
    style: str = "ggplot"  # how the code dresses it: ggplot, dark, seaborn, fivethirtyeight, plain
    unit: str = ""  # the unit of the first numeric column, as answers write it


CARS = Scenario(
    "cars",
    "Top speeds of production electric cars",
    ("Car", "Top speed (km/h)"),
    (("Tesla Model S Plaid", 322), ("Lucid Air Sapphire", 330), ("Porsche Taycan Turbo S", 260),
     ("Hyundai Ioniq 5 N", 257), ("BMW i4 M50", 225), ("Kia EV6 GT", 262)),
    style="ggplot",
    unit="km/h",
)  # fmt: skip
VISITORS = Scenario(
    "visitors",
    "Visitors to the Lindqvist Farm open days by month",
    ("Month", "Visitors"),
    (("April", 1240), ("May", 2315), ("June", 3870), ("July", 4125), ("August", 3690), ("September", 1980)),
    style="dark",
    unit="visitors",
)
ENERGY = Scenario(
    "energy",
    "Where a family home's electricity goes",
    ("Appliance", "Share of use (%)"),
    (("Heating", 38), ("Water heater", 17), ("Fridge and freezer", 12), ("Lighting", 9), ("Cooking", 8),
     ("Laundry", 7), ("Electronics", 6), ("Other", 3)),
    style="plain",
    unit="%",
)  # fmt: skip
FUNNEL = Scenario(
    "funnel",
    "Checkout funnel of the Nordlys online shop, March",
    ("Stage", "Visitors"),
    (("Visited product page", 48200), ("Added to basket", 12650), ("Started checkout", 7410),
     ("Entered payment", 5120), ("Completed order", 4385)),
    style="plain",
    unit="visitors",
)  # fmt: skip
RAIN = Scenario(
    "rain",
    "Monthly rainfall in Bergen and Oslo, 2023",
    ("Month", "Bergen (mm)", "Oslo (mm)"),
    (("Jan", 232), ("Feb", 191), ("Mar", 155), ("Apr", 112), ("May", 101), ("Jun", 106), ("Jul", 142), ("Aug", 190)),
    style="seaborn",
    unit="mm",
)
RAIN = Scenario(
    RAIN.name, RAIN.title, RAIN.columns,
    tuple((m, b, o) for (m, b), o in zip(RAIN.rows, (49, 36, 47, 41, 53, 65, 81, 89), strict=True)),
    style=RAIN.style, unit=RAIN.unit,
)  # fmt: skip
REVENUE = Scenario(
    "revenue",
    "Quarterly revenue by region for Fjord Outdoor Gear",
    ("Quarter", "North ($k)", "South ($k)", "West ($k)"),
    (("Q1 2023", 412, 538, 297), ("Q2 2023", 465, 602, 331), ("Q3 2023", 520, 574, 389), ("Q4 2023", 611, 655, 402)),
    style="fivethirtyeight",
    unit="",
)
STUDY = Scenario(
    "study",
    "Hours studied versus exam score in Year 11 maths",
    ("Student", "Hours studied", "Exam score", "Class size"),
    (("Amira", 2, 54, 24), ("Ben", 4, 61, 28), ("Chloe", 5, 70, 22), ("Dev", 7, 74, 30), ("Elin", 8, 81, 26),
     ("Farah", 10, 88, 25), ("Gus", 12, 91, 29)),
    style="seaborn",
)  # fmt: skip
RUN10K = Scenario(
    "run10k",
    "Finish times at the Harbour 10K fun run",
    ("Runner", "Finish time (min)"),
    tuple(zip(("R01", "R02", "R03", "R04", "R05", "R06", "R07", "R08", "R09", "R10", "R11", "R12"),
              (38, 42, 44, 47, 49, 51, 52, 55, 58, 61, 66, 72), strict=True)),
    style="ggplot",
    unit="minutes",
)  # fmt: skip
TENTS = Scenario(
    "tents",
    "Comparison of three-season hiking tents",
    ("Tent", "Weight (kg)", "Capacity", "Price (EUR)", "Waterhead (mm)"),
    (("Fjellheim 2", 1.45, 2, 389, 3000), ("Ridgeline UL", 0.98, 1, 449, 2000), ("Basecamp 3", 2.60, 3, 319, 4000),
     ("Trailhaven 2", 1.72, 2, 279, 3000)),
)  # fmt: skip
POOL = Scenario(
    "pool",
    "Harbourside Community Pool weekly timetable",
    ("Day", "Session", "Start", "End", "Lanes"),
    (("Monday", "Early swim", "06:30", "08:00", 6), ("Monday", "Aqua aerobics", "10:00", "11:00", 3),
     ("Tuesday", "Lane swimming", "12:00", "13:30", 5), ("Wednesday", "Family splash", "16:00", "17:30", 4),
     ("Thursday", "Masters squad", "19:00", "20:30", 6), ("Saturday", "Open swim", "09:00", "12:00", 8)),
)  # fmt: skip
MENU = Scenario(
    "menu",
    "Spring menu at Café Lindqvist",
    ("Item", "Category", "Price (EUR)"),
    (("Wild garlic soup", "Starter", 7.50), ("Smoked trout toast", "Starter", 9.00),
     ("Nettle and pea risotto", "Main", 16.50), ("Roast spring chicken", "Main", 19.00),
     ("Rhubarb crumble", "Dessert", 6.50), ("Elderflower panna cotta", "Dessert", 7.00)),
)  # fmt: skip
INVOICE = Scenario(
    "invoice",
    "Invoice 2024-117 for garden landscaping, April",
    ("Item", "Quantity", "Unit price (EUR)", "Amount (EUR)"),
    (("Lawn turf (m2)", 85, 6.40, 544.00), ("Gravel path (m2)", 12, 38.00, 456.00),
     ("Hedge planting (m)", 20, 14.50, 290.00), ("Labour (hours)", 16, 45.00, 720.00)),
)  # fmt: skip
LIBRARY = Scenario(
    "library",
    "Millvale Library loans by genre, 2022 and 2023",
    ("Genre", "Loans 2022", "Loans 2023"),
    (("Crime", 4820, 5210), ("Romance", 3115, 2980), ("Science fiction", 1904, 2377), ("History", 1650, 1712),
     ("Children's picture books", 6240, 6895), ("Cookery", 980, 1135)),
)  # fmt: skip
WATER = Scenario(
    "water",
    "Lake Vessel annual water quality report, 2023",
    ("Parameter", "Unit", "Measured", "Limit"),
    (("Nitrate", "mg/L", 8.2, 50), ("Phosphorus", "mg/L", 0.031, 0.05), ("E. coli", "CFU/100 mL", 42, 500),
     ("pH", "pH units", 7.4, 9.0), ("Turbidity", "NTU", 3.1, 5.0), ("Dissolved oxygen", "mg/L", 9.6, 6.0)),
)  # fmt: skip
FRACTIONS = Scenario(
    "fractions",
    "Adding and subtracting fractions practice worksheet",
    ("Problem", "Answer"),
    (("1/2 + 1/4", "3/4"), ("2/3 - 1/6", "1/2"), ("3/5 + 1/10", "7/10"), ("5/6 - 1/3", "1/2"),
     ("1/8 + 3/8", "1/2"), ("7/12 - 1/4", "1/3")),
)  # fmt: skip
RETURNS = Scenario(
    "returns",
    "How a customer return is handled at Nordlys",
    ("Step", "Next step"),
    (("Customer requests return", "Check order date"), ("Check order date", "Within 30 days?"),
     ("Within 30 days?", "Print return label"), ("Within 30 days?", "Offer store credit"),
     ("Print return label", "Inspect returned item"), ("Inspect returned item", "Issue refund"),
     ("Offer store credit", "Close case"), ("Issue refund", "Close case")),
)  # fmt: skip
ORG = Scenario(
    "org",
    "Organisation of the Millvale Library staff",
    ("Role", "Reports to"),
    (("Head librarian", ""), ("Deputy librarian", "Head librarian"), ("Children's librarian", "Deputy librarian"),
     ("Reference librarian", "Deputy librarian"), ("Facilities manager", "Head librarian"),
     ("Volunteer coordinator", "Facilities manager")),
)  # fmt: skip
FAMILY = Scenario(
    "family",
    "The Lindqvist family tree",
    ("Parent", "Child"),
    (("Erik Lindqvist", "Anna Lindqvist"), ("Erik Lindqvist", "Johan Lindqvist"), ("Maja Berg", "Anna Lindqvist"),
     ("Maja Berg", "Johan Lindqvist"), ("Anna Lindqvist", "Sofia Holm"), ("Johan Lindqvist", "Oskar Lindqvist")),
)  # fmt: skip
TRAFFIC = Scenario(
    "traffic",
    "States of a pedestrian crossing light",
    ("State", "Event", "Next state"),
    (("Idle green", "Button pressed", "Amber"), ("Amber", "3 s elapsed", "Red for cars"),
     ("Red for cars", "Walk shown", "Walk"), ("Walk", "10 s elapsed", "Flashing walk"),
     ("Flashing walk", "5 s elapsed", "Idle green")),
)  # fmt: skip
DEPS = Scenario(
    "deps",
    "Package dependencies of the tideplot project",
    ("Package", "Depends on"),
    (("tideplot", "numpy"), ("tideplot", "matplotlib"), ("tideplot", "tidecalc"), ("matplotlib", "numpy"),
     ("matplotlib", "pillow"), ("tidecalc", "numpy"), ("tidecalc", "scipy"), ("scipy", "numpy")),
)  # fmt: skip
MINDMAP = Scenario(
    "mindmap",
    "Planning the Millvale summer reading festival",
    ("Topic", "Subtopic"),
    (("Reading festival", "Venues"), ("Reading festival", "Guests"), ("Reading festival", "Budget"),
     ("Venues", "Town hall"), ("Venues", "Riverside park"), ("Guests", "Local authors"),
     ("Guests", "Storytellers"), ("Budget", "Council grant"), ("Budget", "Ticket sales")),
)  # fmt: skip
CLASSES = Scenario(
    "classes",
    "Classes of a library lending system",
    ("Class", "Related class", "Relationship"),
    (("Library", "Book", "has many"), ("Library", "Member", "has many"), ("Member", "Loan", "makes"),
     ("Loan", "Book", "refers to"), ("Book", "Author", "written by")),
)  # fmt: skip
SEQUENCE = Scenario(
    "sequence",
    "Booking a table through the Café Lindqvist app",
    ("From", "To", "Message"),
    (("Guest", "App", "Choose date and party size"), ("App", "Booking service", "Check availability"),
     ("Booking service", "App", "Free tables at 19:00 and 19:30"), ("Guest", "App", "Confirm 19:30"),
     ("App", "Booking service", "Create booking"), ("Booking service", "Guest", "Confirmation email")),
)  # fmt: skip
GANTT = Scenario(
    "gantt",
    "Renovation plan for the Harbourside Community Pool",
    ("Task", "Start", "End"),
    (("Drain and inspect", "2024-05-06", "2024-05-17"), ("Retile main pool", "2024-05-20", "2024-06-21"),
     ("Replace filters", "2024-06-03", "2024-06-14"), ("Repaint changing rooms", "2024-06-17", "2024-06-28"),
     ("Refill and test water", "2024-06-24", "2024-07-05")),
)  # fmt: skip
POSTER = Scenario(
    "poster",
    "Midsummer lantern walk at Riverside Park",
    document={
        "title": "Midsummer Lantern Walk",
        "date": "2024-06-21",
        "place": "Riverside Park, north gate",
        "items": [
            {"name": "Lantern-making workshop", "time": "18:00", "value": "Free, all materials provided"},
            {"name": "Storytelling by the willow", "time": "19:30", "value": "Ages 5 and up"},
            {"name": "Lantern walk sets off", "time": "21:15", "value": "2.4 km loop along the river"},
            {"name": "Hot chocolate at the boathouse", "time": "22:00", "value": "3 EUR a cup"},
        ],
    },
)
FORM = Scenario(
    "form",
    "Volunteer sign-up form for the Millvale reading festival",
    document={
        "title": "Volunteer Sign-up: Millvale Reading Festival",
        "date": "2024-07-13",
        "place": "Millvale Library",
        "items": [
            {"name": "Full name", "value": "text"},
            {"name": "Email address", "value": "text"},
            {"name": "Preferred shift", "value": "Morning 09:00-13:00 or afternoon 13:00-17:00"},
            {"name": "Role", "value": "Welcome desk, story corner or book stall"},
            {"name": "First-aid certificate", "value": "yes or no"},
        ],
    },
)
NEWSLETTER = Scenario(
    "newsletter",
    "Harbourside Rowing Club newsletter, autumn issue",
    document={
        "title": "Harbourside Rowing Club News",
        "date": "2024-10-01",
        "place": "Harbourside boathouse",
        "items": [
            {"name": "Regatta results", "value": "Our women's quad won gold at the Fjord Regatta in 7:42."},
            {"name": "New boat", "value": "A new coxless four, the Kittiwake, arrives on 14 October."},
            {"name": "Winter training", "value": "Ergometer sessions move indoors from 4 November, Tue and Thu."},
            {"name": "Membership", "value": "The club now has 186 members, up from 151 last year."},
            {"name": "Annual dinner", "value": "Tickets for the 30 November dinner cost 45 EUR."},
        ],
    },
)

FAMILIES: dict[str, tuple[Scenario, ...]] = {
    "cat": (CARS, VISITORS),
    "share": (ENERGY,),
    "funnel": (FUNNEL,),
    "series": (RAIN, REVENUE),
    "xy": (STUDY,),
    "hist": (RUN10K,),
    "tents": (TENTS,),
    "pool": (POOL,),
    "menu": (MENU,),
    "invoice": (INVOICE,),
    "library": (LIBRARY,),
    "water": (WATER,),
    "fractions": (FRACTIONS,),
    "returns": (RETURNS,),
    "org": (ORG,),
    "family": (FAMILY,),
    "traffic": (TRAFFIC,),
    "deps": (DEPS,),
    "mindmap": (MINDMAP,),
    "classes": (CLASSES,),
    "sequence": (SEQUENCE,),
    "gantt": (GANTT,),
    "poster": (POSTER,),
    "form": (FORM,),
    "newsletter": (NEWSLETTER,),
}
FIGURE_FAMILY = {
    "bar chart": "cat",
    "horizontal bar chart": "cat",
    "pie chart": "share",
    "donut chart": "share",
    "funnel chart": "funnel",
    "line chart": "series",
    "area chart": "series",
    "stacked bar chart": "series",
    "grouped bar chart": "series",
    "heatmap": "series",
    "scatter plot": "xy",
    "bubble chart": "xy",
    "histogram": "hist",
    "table": "tents",
    "comparison table": "tents",
    "schedule table": "pool",
    "timetable": "pool",
    "price list": "menu",
    "restaurant menu": "menu",
    "invoice": "invoice",
    "receipt": "invoice",
    "data table": "library",
    "one-page report": "water",
    "math worksheet": "fractions",
    "flowchart": "returns",
    "process diagram": "returns",
    "decision tree": "returns",
    "organisation chart": "org",
    "family tree": "family",
    "state machine": "traffic",
    "dependency graph": "deps",
    "mind map": "mindmap",
    "class diagram": "classes",
    "sequence diagram": "sequence",
    "gantt chart": "gantt",
    "event poster": "poster",
    "form": "form",
    "newsletter": "newsletter",
}
ALL = {s.name: s for family in FAMILIES.values() for s in family}


def pick(figure_type: str, persona: str) -> Scenario:
    """The scenario a persona's figure gets (stable: the same prompt always gets the same one)."""
    family = FAMILIES[FIGURE_FAMILY[figure_type]]
    return family[int(hashlib.sha256(persona.encode()).hexdigest(), 16) % len(family)]


def by_title(text: str) -> Scenario | None:
    """The scenario whose title the text mentions (later prompts quote the topic)."""
    found = [s for s in ALL.values() if s.title in text]
    return max(found, key=lambda s: len(s.title)) if found else None

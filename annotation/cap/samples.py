"""Spoken descriptions of ultralytics' two bundled photos, written the way annotators talk (fillers, a false
start), for the sample manifest and the tests. They describe only what the photos show."""

# image file name -> one description per recording
DESCRIPTIONS: dict[str, list[str]] = {
    "bus.jpg": [
        "Okay so this is a photo of a street in a city. In the middle there is a big blue and white bus, "
        "an electric city bus, and on its side it says cero emisiones in white letters. "
        "Um, in front of the bus two men are walking on the pavement. The man on the left has a beard and "
        "sunglasses and wears a long cream coloured coat with blue jeans. The man next to him wears a black coat "
        "and black sunglasses. Behind the bus there is an old yellow building with small balconies and green "
        "shutters. The street is made of grey stone and the sun is bright.",
        "This is, uh, this is a sunny street scene with a blue bus parked at the side of the road. "
        "Two men stand in front of the bus, one in a light fluffy coat and one in a dark coat. "
        "On the right edge you can see part of a person walking away, in dark clothes and white shoes. "
        "There are short black posts along the edge of the pavement and trees at the top of the picture.",
    ],
    "zidane.jpg": [
        "This picture shows two men in dark suits at a football stadium at night. The man on the left is bald, "
        "he leans forward and shouts with his mouth wide open, and he wears a black suit, a white shirt and a "
        "dark tie. The man on the right has grey hair, he looks calm, and he points with his right hand. "
        "Um, he wears a dark suit with a badge on a blue ribbon around his neck. Behind them the crowd is out "
        "of focus, mostly red and white.",
    ],
}

"""The invented words the sample is made of: titles, names, places, browsers. None of it comes from the
real sample; the shapes do (suffixes like " (Album Version)", metro-area locations, 2014 user agents)."""

WORDS = (
    "Love", "Night", "Fire", "River", "Heart", "Dream", "Gun", "Loaded", "Like", "A", "Blue", "Summer",
    "Rain", "Shadow", "Light", "Train", "Highway", "Stone", "Golden", "Broken", "Wild", "Silver", "Moon",
    "Sun", "Star", "Road", "Home", "Lonely", "City", "Girl", "Boy", "Dance", "Money", "Time", "Morning",
    "Midnight", "Fever", "Thunder", "Angel", "Devil", "Kiss", "Street", "Ocean", "Wind", "Ghost", "Paper",
    "Glass", "Echo", "Honey", "Whiskey", "Sugar", "Storm", "Tears", "Smile", "Memory", "Letter", "Window",
    "Garden", "Mountain", "Desert", "Winter", "Spring", "Autumn", "Radio", "Rocket", "Velvet", "Neon",
    "Electric", "Crazy", "Sweet", "Little", "Big", "Last", "First", "Forever", "Never", "Tonight", "Again",
    "Down", "Up", "Away", "Back", "Don't", "I'm", "Can't", "You", "Me", "We", "Of", "The", "In", "My",
    "On", "Your", "Our", "Love/Hate", "Café", "Corazón", "Noël", "Señorita", "Über", "Été", "Mañana",
    "Chérie", "Doña", "Niño",
)  # fmt: skip
TITLE_SUFFIXES = (
    " (Album Version)", " (LP Version)", "  (Remastered LP Version)", " (Live)", " (Remix)",
    " [Explicit]", " (Instrumental Version)", " (Radio Edit)", " (feat. Lil' Sam)",
)  # fmt: skip
FIRST_NAMES_F = (
    "Anna", "Maria", "Lily", "Chloe", "Emma", "Sophie", "Kate", "Jenna", "Renée", "Zoë", "Ava", "Mia",
    "Harper", "Layla", "Nora", "Elena", "Jade", "Ruby", "Stella", "Alice", "Ivy", "Sara", "Leah", "Piper",
)  # fmt: skip
FIRST_NAMES_M = (
    "John", "Mike", "Ryan", "Leo", "Sam", "Theo", "Jacob", "Noah", "José", "Björn", "Aiden", "Caleb",
    "Owen", "Luke", "Isaac", "Eli", "Miles", "Oscar", "Hugo", "Felix", "Adam", "Jonah", "Kai", "Seth",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Brown", "Davis", "Miller", "Wilson", "Moore", "Taylor", "Anderson", "Thomas", "Jackson",
    "White", "Harris", "Martin", "Garcia", "Martínez", "Robinson", "Clark", "Lewis", "Lee", "Walker",
    "Hall", "Allen", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Carter",
    "Mitchell", "Pérez", "Roberts", "Turner", "Phillips", "Campbell", "Parker", "Evans", "Edwards",
    "O'Brien", "Müller",
)  # fmt: skip
ADJECTIVES = (
    "Black", "Velvet", "Silent", "Electric", "Crimson", "Lazy", "Rusty", "Golden", "Hollow", "Neon",
    "Savage", "Gentle", "Frozen", "Burning", "Mighty", "Lost", "Wicked", "Happy", "Atomic", "Lunar",
)  # fmt: skip
PLURALS = (
    "Wolves", "Rakes", "Strangers", "Kings", "Pilots", "Ramblers", "Shakers", "Saints", "Drifters", "Cats",
    "Brothers", "Sisters", "Horses", "Hearts", "Riders", "Dreamers", "Machines", "Giants", "Robots", "Owls",
)  # fmt: skip
NOUNS = (
    "Frenzy", "Orbit", "Harbor", "Parade", "Circus", "Engine", "Garden", "Canyon", "Mirror", "Lantern",
    "Project", "Society", "Theory", "Union", "Collective", "Machine", "Republic", "Kingdom", "Station",
)  # fmt: skip
ARTIST_LOCATIONS = (
    "California - LA", "California - SF", "Memphis, TN", "London, England", "New York, NY",
    "New York, NY [Manhattan]", "Chicago, IL", "Nashville, TN.", "Toronto, Ontario, Canada", "Dubai UAE",
    "Zagreb Croatia", "Denmark", "Panama", "Orlando, FL", "Houston, TX", "Seattle, Washington USA", "Ohio",
    "Utah", "Washington", "Georgia", "Beverly Hills, CA", "Paris, France", "Berlin, Germany", "São Paulo",
    "Montréal, Québec", "Reykjavík", "Austin, TX", "Detroit, MI", "Kingston, Jamaica", "Melbourne",
)  # fmt: skip
USER_LOCATIONS = (
    "Philadelphia-Camden-Wilmington, PA-NJ-DE-MD", "San Francisco-Oakland-Hayward, CA",
    "New York-Newark-Jersey City, NY-NJ-PA", "Atlanta-Sandy Springs-Roswell, GA", "Lubbock, TX",
    "Chicago-Naperville-Elgin, IL-IN-WI", "Phoenix-Mesa-Scottsdale, AZ", "Saginaw, MI",
    "Lansing-East Lansing, MI", "San Jose-Sunnyvale-Santa Clara, CA", "Waterloo-Cedar Falls, IA",
    "La Crosse-Onalaska, WI-MN", "Houston-The Woodlands-Sugar Land, TX", "Denver-Aurora-Lakewood, CO",
    "Portland-Vancouver-Hillsboro, OR-WA", "Boston-Cambridge-Newton, MA-NH", "Seattle-Tacoma-Bellevue, WA",
    "Miami-Fort Lauderdale-West Palm Beach, FL", "Birmingham-Hoover, AL", "Red Bluff, CA", "Eugene, OR",
    "Tampa-St. Petersburg-Clearwater, FL", "Salt Lake City, UT", "Columbus, OH", "Albany, OR",
    "Santa Maria-Santa Barbara, CA",
)  # fmt: skip
_CHROME = "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.{} Safari/537.36"
USER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) " + _CHROME.format(143),
    "Mozilla/5.0 (Windows NT 6.1; WOW64) " + _CHROME.format(125),
    "Mozilla/5.0 (X11; Linux x86_64) " + _CHROME.format(125),
    "Mozilla/5.0 (Windows NT 6.3; WOW64) " + _CHROME.format(143),
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.78.2 (KHTML, like Gecko) "
    "Version/7.0.6 Safari/537.78.2",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 (KHTML, like Gecko) "
    "Version/7.0 Mobile/11D257 Safari/9537.53",
    "Mozilla/5.0 (Windows NT 5.1; rv:31.0) Gecko/20100101 Firefox/31.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.9; rv:31.0) Gecko/20100101 Firefox/31.0",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:31.0) Gecko/20100101 Firefox/31.0",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
    "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; WOW64; Trident/6.0)",
)

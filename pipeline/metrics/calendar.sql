-- Date arithmetic and the bands of the definitions file, shared by every query.

-- docs/design.md ("Metric definitions"): H = E + 12 months as SQL's E + INTERVAL 12 MONTH (31 Jan + 1 month = 28/29 Feb).
CREATE OR REPLACE TEMP MACRO plusMonths(day, months) AS CAST(day + to_months(months) AS DATE);

-- Age in whole years on a day, born on the first day of the birth month:
-- the birthday of that year has passed once the month is reached.
CREATE OR REPLACE TEMP MACRO ageOn(birth_month, on_day) AS
  CAST(floor(((year(on_day) * 12 + month(on_day)) - (year(birth_month) * 12 + month(birth_month))) / 12) AS INTEGER);

-- Whole months from one day to a later one, counted the way plusMonths adds them.
CREATE OR REPLACE TEMP MACRO wholeMonths(from_day, to_day) AS
  (year(to_day) * 12 + month(to_day)) - (year(from_day) * 12 + month(from_day))
  - CASE WHEN plusMonths(from_day, (year(to_day) * 12 + month(to_day)) - (year(from_day) * 12 + month(from_day))) > to_day THEN 1 ELSE 0 END;

CREATE OR REPLACE TEMP MACRO ageGroup(age) AS
  CASE WHEN age IS NULL OR age < ${minimumAge} THEN 'unknown' WHEN age < ${youthBoundaryAge} THEN ${youthGroupLabel} ELSE ${adultGroupLabel} END;

CREATE OR REPLACE TEMP MACRO ageBand(age) AS ${ageBandCase};

CREATE OR REPLACE TEMP MACRO durationBand(months) AS ${durationBandCase};

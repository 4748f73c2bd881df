# Reference values for parafit's profile-likelihood intervals (`fit --ci profile`, issue 14), made
# offline with Debian 12's r-base-core 4.2.2 and r-cran-mass 7.3 (R's confint on an nls fit
# profiles it with MASS's profile.nls and confint.profile.nls) and stored beside this script; the
# tests read the stored files only.
#
# Writes, next to this script:
#   puromycin.csv  R's Puromycin data, state == "treated" (conc, rate)
#   bod.csv        R's BOD data (Time, demand)
#   misra1a.csv    NIST StRD Misra1a (x, y), from ../nist/Misra1a.dat
#   reference.json for each: the nls estimates, R's confint at levels 0.95 and 0.90 ("ci95",
#                  "ci90"), and the exact crossings of the profile t statistic ("exact95", "exact90"):
#                  uniroot on tau(b) = sign(b - est) sqrt(deviance(refit at b) - deviance) / sigma,
#                  each refit an nls with the parameter replaced by b in the formula. confint
#                  interpolates a spline through profile.nls's grid, so it differs from the exact
#                  crossing by up to ~2.5e-3 of the interval's width (most on BOD's 6 points).
#
# Run from the repository root: Rscript tests/data/profile/make_reference.R
here <- "tests/data/profile"
pur <- subset(Puromycin, state == "treated")[, c("conc", "rate")]
write.csv(pur, file.path(here, "puromycin.csv"), row.names = FALSE, quote = FALSE)
write.csv(BOD, file.path(here, "bod.csv"), row.names = FALSE, quote = FALSE)
lines <- readLines("tests/data/nist/Misra1a.dat")
start <- grep("^Data:", lines)[2]
mis <- read.table(text = lines[(start + 1):length(lines)], col.names = c("y", "x"))
mis <- mis[, c("x", "y")]
write.csv(mis, file.path(here, "misra1a.csv"), row.names = FALSE, quote = FALSE)

fits <- list(
  puromycin = nls(rate ~ Vm * conc / (K + conc), data = pur, start = c(Vm = 200, K = 0.05)),
  bod = nls(demand ~ A * (1 - exp(-exp(lrc) * Time)), data = BOD, start = c(A = 20, lrc = log(0.35))),
  misra1a = nls(y ~ b1 * (1 - exp(-b2 * x)), data = mis, start = c(b1 = 250, b2 = 5e-4))
)
fmt <- function(v) formatC(v, digits = 17, format = "g")
data_of <- list(puromycin = pur, bod = BOD, misra1a = mis)
tau <- function(f, data, p, b) {
  est <- coef(f)
  form <- eval(substitute(substitute(F, L), list(F = formula(f), L = setNames(list(b), p))))
  g <- nls(form, data = data, start = est[names(est) != p], control = nls.control(maxiter = 500, minFactor = 1e-12))
  sign(b - est[[p]]) * sqrt(max(0, deviance(g) - deviance(f))) / sigma(f)
}
exact <- function(f, data, p, ci, level) {
  q <- qt((1 + level) / 2, df.residual(f))
  e <- coef(f)[[p]]
  lo <- uniroot(function(b) tau(f, data, p, b) + q, c(ci[1] - 0.2 * (e - ci[1]), e), tol = 1e-12)$root
  hi <- uniroot(function(b) tau(f, data, p, b) - q, c(e, ci[2] + 0.2 * (ci[2] - e)), tol = 1e-12)$root
  c(lo, hi)
}
out <- c("{")
for (name in names(fits)) {
  f <- fits[[name]]
  est <- coef(f)
  c95 <- confint(f, level = 0.95)
  c90 <- confint(f, level = 0.90)
  out <- c(out, sprintf('  "%s": {', name))
  params <- c()
  for (p in names(est)) {
    ex <- exact(f, data_of[[name]], p, c95[p, ], 0.95)
    ex90 <- exact(f, data_of[[name]], p, c90[p, ], 0.90)
    params <- c(params, sprintf(
      '    "%s": {"estimate": %s, "ci95": [%s, %s], "ci90": [%s, %s], "exact95": [%s, %s], "exact90": [%s, %s]}', p,
      fmt(est[[p]]), fmt(c95[p, 1]), fmt(c95[p, 2]), fmt(c90[p, 1]), fmt(c90[p, 2]), fmt(ex[1]), fmt(ex[2]),
      fmt(ex90[1]), fmt(ex90[2])))
  }
  out <- c(out, paste(params, collapse = ",\n"), if (name == tail(names(fits), 1)) "  }" else "  },")
}
out <- c(out, "}")
writeLines(out, file.path(here, "reference.json"))

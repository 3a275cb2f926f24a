# Export the public battery of srsbayes: binary and contrast-level meta-analyses from R's
# metadat package, in srsbayes's study-table schema, with metafor's estimates as reference.
#
# Run once from the repository root (R 4.2.2, metafor 3.8-1, metadat 1.2-0, lme4 for rma.glmm;
# Debian bookworm's r-base-core, r-cran-metafor, r-cran-metadat, r-cran-lme4):
#     Rscript tests/data/metadat/export.R
# It writes tests/data/metadat/binary.csv, contrast.csv and reference.csv. The tests read those
# files only (CI has no R).
suppressPackageStartupMessages(library(metafor))
out <- "tests/data/metadat"

# -- binary 2x2 data: (dataset, treatment events/n, control events/n, study label, subset) --
bin <- list(
  bcg = with(dat.bcg, data.frame(study = paste(author, year), ai = tpos, n1i = tpos + tneg,
                                 ci = cpos, n2i = cpos + cneg)),
  egger2001 = with(dat.egger2001, data.frame(study = paste(study, year), ai, n1i, ci, n2i)),
  collins1985a = with(dat.collins1985a, data.frame(study = paste(trial, year), ai = b.xti,
                                                   n1i = nti, ci = b.xci, n2i = nci)),
  collins1985b = with(dat.collins1985b, data.frame(study = paste(author, year), ai = pre.xti,
                                                   n1i = pre.nti, ci = pre.xci, n2i = pre.nci)),
  yusuf1985 = with(subset(dat.yusuf1985, table == "6"),
                   data.frame(study = paste(id, trial), ai, n1i, ci, n2i)),
  hine1989 = with(dat.hine1989, data.frame(study = paste(study, source), ai, n1i, ci, n2i)),
  li2007 = with(dat.li2007, data.frame(study = paste(study, year), ai, n1i, ci, n2i)),
  lee2004 = with(dat.lee2004, data.frame(study = paste(study, year), ai, n1i, ci, n2i)),
  nielweise2007 = with(dat.nielweise2007, data.frame(study = paste(author, year), ai, n1i, ci, n2i)),
  laopaiboon2015 = with(dat.laopaiboon2015, data.frame(study = paste(author, year), ai, n1i, ci, n2i)),
  anand1999 = with(dat.anand1999, data.frame(study = paste(study, year), ai, n1i, ci, n2i)),
  cannon2006 = with(dat.cannon2006, data.frame(study = trial, ai = ep1t, n1i = nt, ci = ep1c, n2i = nc)),
  axfors2021 = with(dat.axfors2021, data.frame(study = paste(id, acronym), ai = hcq_arm_event,
                                               n1i = hcq_arm_total, ci = control_arm_event,
                                               n2i = control_arm_total)),
  lau1992 = with(dat.lau1992, data.frame(study = paste(trial, year), ai, n1i, ci, n2i)),
  damico2009 = with(dat.damico2009, data.frame(study = paste(study, year), ai = xt, n1i = nt,
                                               ci = xc, n2i = nc)),
  vanhowe1999 = with(dat.vanhowe1999, data.frame(study, ai = non.pos, n1i = non.pos + non.neg,
                                                 ci = cir.pos, n2i = cir.pos + cir.neg)),
  graves2010 = with(dat.graves2010, data.frame(study, ai, n1i, ci, n2i)),
  hahn2001 = with(dat.hahn2001, data.frame(study, ai, n1i, ci, n2i)),
  dorn2007 = with(dat.dorn2007, data.frame(study = paste(study, year), ai = x.a, n1i = n.a,
                                           ci = x.p, n2i = n.p)),
  linde2005 = with(dat.linde2005, data.frame(study = paste(id, study, year), ai, n1i, ci, n2i))
)
what <- c(bcg = "tpos, tpos + tneg (vaccinated); cpos, cpos + cneg (not vaccinated)",
          collins1985a = "b.xti/nti vs b.xci/nci (persistent or recurrent bleeding)",
          collins1985b = "pre.xti/pre.nti vs pre.xci/pre.nci (pre-eclampsia)",
          yusuf1985 = "table 6 only: ai/n1i vs ci/n2i",
          cannon2006 = "ep1t/nt vs ep1c/nc (endpoint 1)",
          axfors2021 = "hcq_arm_event/hcq_arm_total vs control_arm_event/control_arm_total",
          damico2009 = "xt/nt vs xc/nc",
          vanhowe1999 = "non.pos/(non.pos + non.neg) vs cir.pos/(cir.pos + cir.neg)",
          dorn2007 = "x.a/n.a vs x.p/n.p")

# -- contrast-level data: (estimate on the analysis scale, its SE, measure code) ------------
nm <- escalc("MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
             data = dat.normand1999)
con <- list(
  raudenbush1985 = with(dat.raudenbush1985, data.frame(study = paste(study, author, year), yi,
                                                       sei = sqrt(vi), measure = "mean_difference")),
  normand1999 = with(nm, data.frame(study = paste(study, source), yi = as.numeric(yi),
                                    sei = sqrt(as.numeric(vi)), measure = "mean_difference")),
  hackshaw1998 = with(dat.hackshaw1998, data.frame(study = paste(study, author, year), yi,
                                                   sei = sqrt(vi), measure = "or")),
  riley2003 = with(subset(dat.riley2003, outcome == "OS" & !is.na(yi)),
                   data.frame(study = paste("study", study), yi, sei, measure = "hr")),
  bangertdrowns2004 = with(dat.bangertdrowns2004, data.frame(study = paste(id, author, year), yi,
                                                             sei = sqrt(vi), measure = "mean_difference"))
)

rows <- list(); refs <- list()
for (name in names(bin)) {
  d <- bin[[name]]
  d$row <- seq_len(nrow(d))
  # as rma.glmm (drop00 = TRUE) and rma: studies with a missing count or no event in either
  # arm are left out, so that both fits and ours see the same studies
  d <- d[complete.cases(d[c("ai", "n1i", "ci", "n2i")]) & !(d$ai == 0 & d$ci == 0), ]
  d$study <- make.unique(as.character(d$study), sep = " #")
  src <- paste0("metadat 1.2-0 dat.", name, " row ", d$row,
                if (!is.na(what[name])) paste0(": ", what[name]) else ": ai/n1i vs ci/n2i")
  rows[[name]] <- rbind(
    data.frame(study = d$study, outcome = name, arm = "preop", n = d$n1i, events = d$ai, source = src),
    data.frame(study = d$study, outcome = name, arm = "postop", n = d$n2i, events = d$ci, source = src))
  warned <- character()
  g <- withCallingHandlers(
    rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d,
             model = "UM.FS", method = "ML", coding = 1/2),
    warning = function(w) {
      warned <<- c(warned, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  r <- rma(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d, method = "REML")
  refs[[name]] <- data.frame(
    dataset = name, family = "binomial", k = nrow(d),
    glmm_est = g$beta[1], glmm_se = g$se, glmm_tau = sqrt(g$tau2),
    reml_est = r$beta[1], reml_se = r$se, reml_tau = sqrt(r$tau2),
    note = paste(unique(gsub("\\s+", " ", warned)), collapse = "; "))
}
con_rows <- list()
for (name in names(con)) {
  d <- con[[name]]
  d$study <- make.unique(as.character(d$study), sep = " #")
  nat <- if (d$measure[1] %in% c("or", "hr")) exp(d$yi) else d$yi
  con_rows[[name]] <- data.frame(
    study = d$study, outcome = name, arm = "", measure = d$measure,
    estimate = sprintf("%.17g", nat), se = sprintf("%.17g", d$sei),
    source = paste0("metadat 1.2-0 dat.", name, " row ", seq_len(nrow(d)),
                    ": yi, sqrt(vi) (exp(yi) for a ratio)"))
  r <- rma(yi = d$yi, sei = d$sei, method = "REML")
  m <- rma(yi = d$yi, sei = d$sei, method = "ML")
  refs[[name]] <- data.frame(
    dataset = name, family = "contrast", k = nrow(d),
    glmm_est = m$beta[1], glmm_se = m$se, glmm_tau = sqrt(m$tau2),
    reml_est = r$beta[1], reml_se = r$se, reml_tau = sqrt(r$tau2), note = "")
}
write.csv(do.call(rbind, rows), file.path(out, "binary.csv"), row.names = FALSE)
write.csv(do.call(rbind, con_rows), file.path(out, "contrast.csv"), row.names = FALSE)
ref <- do.call(rbind, refs)
num <- sapply(ref, is.numeric) & names(ref) != "k"
ref[num] <- lapply(ref[num], function(x) sprintf("%.6f", x))
write.csv(ref, file.path(out, "reference.csv"), row.names = FALSE)

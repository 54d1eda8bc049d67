package io.vitfleet.coordinator.plan;

import io.vitfleet.protocol.control.Plan.WorkerAssignment;
import io.vitfleet.protocol.control.WorkerInfo;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Puts workers on the P x D cells (replica, stage) of a plan: every worker must hold its stage in the memory it
 * declares; among the placements that fit, faster workers go to heavier stages.
 *
 * <p>Fitting is a threshold matching: it exists exactly when, with the cells' needs sorted descending and the workers'
 * memory sorted descending, the i-th worker covers the i-th need for every i. The placement fills cells heaviest
 * stage first, each with the fastest remaining worker that fits it and leaves the remaining cells fillable, so it
 * never paints itself into a corner. Ties go to the lower worker id: the same input always gives the same plan.
 * When all speeds are equal, cells are filled in (replica, stage) order so workers read in id order down the plan.
 */
final class WorkerPlacement {
  private static final Comparator<WorkerInfo> BY_MEMORY_DESC =
      Comparator.comparingLong(WorkerInfo::declaredMemoryBytes).reversed().thenComparing(WorkerInfo::workerId);
  private static final Comparator<WorkerInfo> BY_SPEED_DESC =
      Comparator.comparingDouble(WorkerInfo::measuredGflopsPerSecond).reversed().thenComparing(WorkerInfo::workerId);

  /** The first cell no worker can take, with the worker that fell short of it. */
  record Misfit(StageMemory need, WorkerInfo worker) {
  }

  private record Cell(int replica, int stage) {
  }

  private WorkerPlacement() {
  }

  /** Null when the workers can fill every cell; otherwise the tightest shortfall. Needs workers >= P x D. */
  static Misfit misfit(List<StageMemory> stages, int replicas, List<WorkerInfo> workers) {
    List<StageMemory> needs = new ArrayList<>();
    for (StageMemory s : stages) {
      for (int r = 0; r < replicas; r++) {
        needs.add(s);
      }
    }
    needs.sort(Comparator.comparingLong(StageMemory::totalBytes).reversed()
        .thenComparingInt(StageMemory::stage));
    List<WorkerInfo> byMemory = new ArrayList<>(workers);
    byMemory.sort(BY_MEMORY_DESC);
    for (int i = 0; i < needs.size(); i++) {
      if (byMemory.get(i).declaredMemoryBytes() < needs.get(i).totalBytes()) {
        return new Misfit(needs.get(i), byMemory.get(i));
      }
    }
    return null;
  }

  /** The placement, sorted by (replica, stage); call only when {@link #misfit} is null. */
  static List<WorkerAssignment> place(List<StageMemory> stages, long[] stageFlops, int replicas,
      List<WorkerInfo> workers) {
    List<WorkerInfo> remaining = new ArrayList<>(workers);
    remaining.sort(BY_SPEED_DESC);
    boolean speedsDiffer = remaining.stream().mapToDouble(WorkerInfo::measuredGflopsPerSecond).distinct().count() > 1;
    List<Cell> cells = new ArrayList<>();
    for (int r = 0; r < replicas; r++) {
      for (int s = 0; s < stages.size(); s++) {
        cells.add(new Cell(r, s));
      }
    }
    if (speedsDiffer) {
      cells.sort(Comparator.<Cell>comparingLong(c -> stageFlops[c.stage()]).reversed()
          .thenComparingInt(Cell::stage).thenComparingInt(Cell::replica));
    }
    List<WorkerAssignment> out = new ArrayList<>();
    for (int i = 0; i < cells.size(); i++) {
      Cell cell = cells.get(i);
      long need = stages.get(cell.stage()).totalBytes();
      List<Long> rest = new ArrayList<>();
      for (Cell later : cells.subList(i + 1, cells.size())) {
        rest.add(stages.get(later.stage()).totalBytes());
      }
      WorkerInfo chosen = null;
      for (WorkerInfo w : remaining) {
        if (w.declaredMemoryBytes() >= need && fits(rest, without(remaining, w))) {
          chosen = w;
          break;
        }
      }
      if (chosen == null) {
        throw new IllegalStateException("placement called on workers that do not fit: cell " + cell);
      }
      remaining.remove(chosen);
      out.add(new WorkerAssignment(chosen.workerId(), cell.replica(), cell.stage()));
    }
    out.sort(Comparator.comparingInt(WorkerAssignment::replica).thenComparingInt(WorkerAssignment::stage));
    return List.copyOf(out);
  }

  private static boolean fits(List<Long> needs, List<WorkerInfo> workers) {
    if (workers.size() < needs.size()) {
      return false;
    }
    List<Long> sortedNeeds = new ArrayList<>(needs);
    sortedNeeds.sort(Comparator.reverseOrder());
    List<WorkerInfo> byMemory = new ArrayList<>(workers);
    byMemory.sort(BY_MEMORY_DESC);
    for (int i = 0; i < sortedNeeds.size(); i++) {
      if (byMemory.get(i).declaredMemoryBytes() < sortedNeeds.get(i)) {
        return false;
      }
    }
    return true;
  }

  private static List<WorkerInfo> without(List<WorkerInfo> workers, WorkerInfo gone) {
    List<WorkerInfo> out = new ArrayList<>(workers);
    out.remove(gone);
    return out;
  }
}
